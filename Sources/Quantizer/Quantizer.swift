// Quantizer: hardware-class profiles, calibrators, quantization schemes, accuracy-aware tuning
// and reports. Being built under issue #5.
