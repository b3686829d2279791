internal import CMosquitto
import Glibc

// Conversion between MQTTProperties and libmosquitto's property lists. A list built here is
// owned by the caller, who frees it with mosquitto_property_free_all once libmosquitto has
// copied it (every libmosquitto call that takes properties copies them before returning).
extension MQTTProperties {
    /// Builds a libmosquitto property list, or nil when there is nothing to send.
    func makeMosquittoList() throws(MQTTError) -> OpaquePointer? {
        if isEmpty { return nil }
        var list: OpaquePointer? = nil
        func check(_ rc: Int32, _ what: String) throws(MQTTError) {
            guard rc == MOSQ_ERR_SUCCESS.rawValue else {
                mosquitto_property_free_all(&list)
                throw MQTTError(.invalidConfiguration, "MQTT property \(what) is invalid: \(String(cString: mosquitto_strerror(rc)))")
            }
        }
        for p in userProperties {
            try check(
                mosquitto_property_add_string_pair(&list, Int32(MQTT_PROP_USER_PROPERTY.rawValue), p.name, p.value),
                "user property '\(p.name)'")
        }
        if let v = messageExpiryInterval {
            try check(mosquitto_property_add_int32(&list, Int32(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue), v), "message expiry interval")
        }
        if let v = responseTopic {
            try check(mosquitto_property_add_string(&list, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), v), "response topic")
        }
        if let v = correlationData {
            guard v.count <= Int(UInt16.max) else {
                mosquitto_property_free_all(&list)
                throw MQTTError(.invalidConfiguration, "MQTT correlation data is \(v.count) bytes; MQTT allows at most 65535")
            }
            let rc = v.withUnsafeBytes {
                mosquitto_property_add_binary(&list, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), $0.baseAddress, UInt16(v.count))
            }
            try check(rc, "correlation data")
        }
        if let v = contentType {
            try check(mosquitto_property_add_string(&list, Int32(MQTT_PROP_CONTENT_TYPE.rawValue), v), "content type")
        }
        if let v = payloadIsUTF8 {
            try check(
                mosquitto_property_add_byte(&list, Int32(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR.rawValue), v ? 1 : 0),
                "payload format indicator")
        }
        return list
    }

    /// Reads the properties Flotilla cares about from a received list (owned by libmosquitto).
    init(mosquittoList: OpaquePointer?) {
        self.init()
        var node = mosquittoList
        while let p = node {
            switch Int(mosquitto_property_identifier(p)) {
            case Int(MQTT_PROP_USER_PROPERTY.rawValue):
                var name: UnsafeMutablePointer<CChar>? = nil
                var value: UnsafeMutablePointer<CChar>? = nil
                if mosquitto_property_read_string_pair(p, Int32(MQTT_PROP_USER_PROPERTY.rawValue), &name, &value, false) != nil,
                    let name, let value
                {
                    userProperties.append(.init(String(cString: name), String(cString: value)))
                }
                free(name)
                free(value)
            case Int(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue):
                var v: UInt32 = 0
                if mosquitto_property_read_int32(p, Int32(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue), &v, false) != nil {
                    messageExpiryInterval = v
                }
            case Int(MQTT_PROP_RESPONSE_TOPIC.rawValue):
                var s: UnsafeMutablePointer<CChar>? = nil
                if mosquitto_property_read_string(p, Int32(MQTT_PROP_RESPONSE_TOPIC.rawValue), &s, false) != nil, let s {
                    responseTopic = String(cString: s)
                }
                free(s)
            case Int(MQTT_PROP_CONTENT_TYPE.rawValue):
                var s: UnsafeMutablePointer<CChar>? = nil
                if mosquitto_property_read_string(p, Int32(MQTT_PROP_CONTENT_TYPE.rawValue), &s, false) != nil, let s {
                    contentType = String(cString: s)
                }
                free(s)
            case Int(MQTT_PROP_CORRELATION_DATA.rawValue):
                var data: UnsafeMutableRawPointer? = nil
                var len: UInt16 = 0
                if mosquitto_property_read_binary(p, Int32(MQTT_PROP_CORRELATION_DATA.rawValue), &data, &len, false) != nil {
                    correlationData = data.map { Array(UnsafeRawBufferPointer(start: $0, count: Int(len))) } ?? []
                }
                free(data)
            case Int(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR.rawValue):
                var b: UInt8 = 0
                if mosquitto_property_read_byte(p, Int32(MQTT_PROP_PAYLOAD_FORMAT_INDICATOR.rawValue), &b, false) != nil {
                    payloadIsUTF8 = b == 1
                }
            default:
                break
            }
            node = mosquitto_property_next(p)
        }
    }
}
