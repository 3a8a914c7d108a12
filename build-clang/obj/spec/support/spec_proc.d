build-clang/obj/spec/support/spec_proc.o: spec/support/spec_proc.c \
  spec/support/spec_proc.h

spec/support/spec_proc.h:
