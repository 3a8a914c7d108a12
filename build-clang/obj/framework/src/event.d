build-clang/obj/framework/src/event.o: framework/src/event.c \
  framework/include/listenkit/event.h \
  framework/include/listenkit/error.h \
  framework/include/listenkit/alloc-private.h \
  framework/include/listenkit/alloc.h

framework/include/listenkit/event.h:

framework/include/listenkit/error.h:

framework/include/listenkit/alloc-private.h:

framework/include/listenkit/alloc.h:
