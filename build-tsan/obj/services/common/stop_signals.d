build-tsan/obj/services/common/stop_signals.o: \
 services/common/stop_signals.c services/common/stop_signals.h \
 framework/include/listenkit/error.h
services/common/stop_signals.h:
framework/include/listenkit/error.h:
