build-tsan/obj/framework/src/event.o: framework/src/event.c \
 framework/include/listenkit/event.h framework/include/listenkit/error.h
framework/include/listenkit/event.h:
framework/include/listenkit/error.h:
