build-clang/obj/framework/src/bus.o: framework/src/bus.c \
  framework/include/listenkit/bus.h framework/include/listenkit/error.h \
  framework/include/listenkit/msg.h

framework/include/listenkit/bus.h:

framework/include/listenkit/error.h:

framework/include/listenkit/msg.h:
