build-clang/obj/spec/services/common/stop_signals_spec.o: \
  spec/services/common/stop_signals_spec.c \
  services/common/stop_signals.h framework/include/listenkit/error.h

services/common/stop_signals.h:

framework/include/listenkit/error.h:
