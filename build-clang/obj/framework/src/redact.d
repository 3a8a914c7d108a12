build-clang/obj/framework/src/redact.o: framework/src/redact.c \
  framework/include/listenkit/redact.h

framework/include/listenkit/redact.h:
