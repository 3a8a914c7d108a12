build-clang/obj/spec/support/failing_alloc.o: \
  spec/support/failing_alloc.c spec/support/failing_alloc.h \
  framework/include/listenkit/alloc.h \
  framework/include/listenkit/error.h

spec/support/failing_alloc.h:

framework/include/listenkit/alloc.h:

framework/include/listenkit/error.h:
