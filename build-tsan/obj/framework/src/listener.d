build-tsan/obj/framework/src/listener.o: framework/src/listener.c \
 framework/include/listenkit/listener.h framework/include/listenkit/bus.h \
 framework/include/listenkit/error.h framework/include/listenkit/msg.h \
 framework/include/listenkit/event.h framework/include/listenkit/log.h
framework/include/listenkit/listener.h:
framework/include/listenkit/bus.h:
framework/include/listenkit/error.h:
framework/include/listenkit/msg.h:
framework/include/listenkit/event.h:
framework/include/listenkit/log.h:
