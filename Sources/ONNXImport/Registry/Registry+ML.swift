import ModelIR

/// ai.onnx.ml ops of classic-ML pipelines (scikit-learn converters) whose tensor-only forms
/// Flotilla can carry; map/sequence ops (ZipMap, DictVectorizer) stay unsupported.
extension OpRegistry {
    mutating func registerML() {
        for op in ["ArrayFeatureExtractor", "Binarizer", "Scaler", "Normalizer"] { ml(op) }
    }
}
