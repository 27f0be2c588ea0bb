//===- HostRuntime.h - Host helpers callable from compiled code -*- C -*-===//
//
// The C ABI of libmagicpig_runtime.so: the few host services that code
// produced by the MagicPIG pipelines may call and that upstream MLIR's runner
// utilities (printMemrefF32, printF32, rtclock, ...) do not provide.
// magicpig-run loads this library automatically; an AOT-compiled graph links
// it with -lmagicpig_runtime.
//
// Declare the functions in MLIR as, e.g.,
//   func.func private @magicpigNanoTime() -> i64
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_RUNTIME_HOSTRUNTIME_H
#define MAGICPIG_RUNTIME_HOSTRUNTIME_H

#include <stdint.h>

#if defined(_WIN32)
#define MAGICPIG_RUNTIME_EXPORT __declspec(dllexport)
#else
#define MAGICPIG_RUNTIME_EXPORT __attribute__((visibility("default")))
#endif

#ifdef __cplusplus
extern "C" {
#endif

/// Nanoseconds on a monotonic clock (CLOCK_MONOTONIC): never goes backwards
/// and is not affected by changes of the wall-clock time. The origin is
/// arbitrary, so only differences of two readings are meaningful; meant for
/// timing benchmark loops from inside compiled code.
MAGICPIG_RUNTIME_EXPORT int64_t magicpigNanoTime(void);

#ifdef __cplusplus
}
#endif

#endif // MAGICPIG_RUNTIME_HOSTRUNTIME_H
