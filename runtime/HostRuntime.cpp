//===- HostRuntime.cpp - Host helpers callable from compiled code ---------===//
//
// See magicpig-runtime/HostRuntime.h for the contract of each function.
//
//===----------------------------------------------------------------------===//

#include "magicpig-runtime/HostRuntime.h"

#include <chrono>

int64_t magicpigNanoTime(void) {
  // steady_clock is CLOCK_MONOTONIC on Linux; spelled portably here.
  auto sinceEpoch = std::chrono::steady_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::nanoseconds>(sinceEpoch)
      .count();
}
