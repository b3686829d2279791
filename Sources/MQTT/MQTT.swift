// MQTT: being written.
