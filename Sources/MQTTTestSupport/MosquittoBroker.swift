// MQTTTestSupport: being written.
