// The libmosquitto client API (MQTT 3.1.1 and 5) and its protocol constants, plus the Linux
// readiness APIs (epoll, eventfd) that Flotilla's external event loop drives libmosquitto with:
// Swift's Glibc module does not export them. Imported only by the MQTT module.
#include <mosquitto.h>
#include <mqtt_protocol.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
