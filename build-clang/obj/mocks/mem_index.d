build-clang/obj/mocks/mem_index.o: mocks/mem_index.c \
  mocks/mem_index-private.h framework/include/listenkit/alloc.h \
  framework/include/listenkit/error.h

mocks/mem_index-private.h:

framework/include/listenkit/alloc.h:

framework/include/listenkit/error.h:
