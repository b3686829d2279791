// The libmosquitto client API (MQTT 3.1.1 and 5) and its protocol constants.
// Imported only by the MQTT module.
#include <mosquitto.h>
#include <mqtt_protocol.h>
