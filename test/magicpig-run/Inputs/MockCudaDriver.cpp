//===- MockCudaDriver.cpp - A fake libcuda.so.1 for testing the wrappers --===//
//
// Built as libcuda.so.1 in a test-only directory. With LD_LIBRARY_PATH
// pointing there, libmagicpig_cuda_runtime.so opens this instead of the real
// driver, so a machine without a GPU can check that every mgpu* wrapper
// reaches the right driver entry point with the right arguments.
//
// Each call logs one "mock: ..." line on stderr. Memory is host memory, so
// memsets and copies really happen; kernels are logged, not run.
// MOCK_CUDA_FAIL=<symbol> makes that entry point fail with
// CUDA_ERROR_LAUNCH_FAILED; MOCK_CUDA_NO_DEVICE=1 makes cuInit fail.
//
// Plain C types stand in for the driver's: CUresult and CUdevice are int,
// handles are pointers, CUdeviceptr is a 64-bit integer.
//
//===----------------------------------------------------------------------===//

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {
using Result = int;
using DevicePtr = unsigned long long;
constexpr Result kSuccess = 0;
constexpr Result kNoDevice = 100;
constexpr Result kLaunchFailed = 719;

// A distinct non-null address for each kind of fake handle.
char fakeContext, fakeModule, fakeFunction, fakeStream, fakeEvent;

/// The result the test asked `symbol` to return.
Result enter(const char *symbol) {
  const char *failing = std::getenv("MOCK_CUDA_FAIL");
  return failing && std::strcmp(failing, symbol) == 0 ? kLaunchFailed
                                                      : kSuccess;
}
} // namespace

#define MOCK_EXPORT extern "C" __attribute__((visibility("default")))

MOCK_EXPORT Result cuGetErrorName(Result error, const char **name) {
  *name = error == kNoDevice       ? "CUDA_ERROR_NO_DEVICE"
          : error == kLaunchFailed ? "CUDA_ERROR_LAUNCH_FAILED"
                                   : "CUDA_ERROR_UNKNOWN";
  return kSuccess;
}

MOCK_EXPORT Result cuGetErrorString(Result error, const char **text) {
  *text = error == kNoDevice ? "no CUDA-capable device is detected"
                             : "mock failure";
  return kSuccess;
}

MOCK_EXPORT Result cuInit(unsigned flags) {
  std::fprintf(stderr, "mock: cuInit flags=%u\n", flags);
  return std::getenv("MOCK_CUDA_NO_DEVICE") ? kNoDevice : kSuccess;
}

MOCK_EXPORT Result cuDeviceGetCount(int *count) {
  *count = 1;
  return enter("cuDeviceGetCount");
}

MOCK_EXPORT Result cuDeviceGet(int *device, int ordinal) {
  std::fprintf(stderr, "mock: cuDeviceGet ordinal=%d\n", ordinal);
  *device = ordinal;
  return enter("cuDeviceGet");
}

MOCK_EXPORT Result cuDevicePrimaryCtxRetain(void **context, int device) {
  std::fprintf(stderr, "mock: cuDevicePrimaryCtxRetain device=%d\n", device);
  *context = &fakeContext;
  return enter("cuDevicePrimaryCtxRetain");
}

MOCK_EXPORT Result cuCtxSetCurrent(void *context) {
  std::fprintf(stderr, "mock: cuCtxSetCurrent primary=%d\n",
               context == &fakeContext);
  return enter("cuCtxSetCurrent");
}

MOCK_EXPORT Result cuModuleLoadData(void **module, const void *image) {
  std::fprintf(stderr, "mock: cuModuleLoadData image=%d\n", image != nullptr);
  *module = &fakeModule;
  return enter("cuModuleLoadData");
}

MOCK_EXPORT Result cuModuleLoadDataEx(void **module, const void *image,
                                      unsigned numOptions, int *options,
                                      void **values) {
  // Report the JIT optimization level (option 7) and the PTX target line.
  long level = -1;
  for (unsigned i = 0; i < numOptions; ++i)
    if (options[i] == 7)
      level = static_cast<long>(reinterpret_cast<uintptr_t>(values[i]));
  const char *target = std::strstr(static_cast<const char *>(image), ".target");
  int targetLength = target ? static_cast<int>(std::strcspn(target, "\n")) : 0;
  std::fprintf(stderr, "mock: cuModuleLoadDataEx level=%ld %.*s\n", level,
               targetLength, target ? target : "");
  *module = &fakeModule;
  return enter("cuModuleLoadDataEx");
}

MOCK_EXPORT Result cuModuleUnload(void *module) {
  std::fprintf(stderr, "mock: cuModuleUnload known=%d\n",
               module == &fakeModule);
  return enter("cuModuleUnload");
}

MOCK_EXPORT Result cuModuleGetFunction(void **function, void *module,
                                       const char *name) {
  std::fprintf(stderr, "mock: cuModuleGetFunction %s known=%d\n", name,
               module == &fakeModule);
  *function = &fakeFunction;
  return enter("cuModuleGetFunction");
}

MOCK_EXPORT Result cuFuncSetAttribute(void *function, int attribute,
                                      int value) {
  std::fprintf(stderr, "mock: cuFuncSetAttribute attribute=%d value=%d\n",
               attribute, value);
  return enter("cuFuncSetAttribute");
}

MOCK_EXPORT Result cuLaunchKernel(void *function, unsigned gridX,
                                  unsigned gridY, unsigned gridZ,
                                  unsigned blockX, unsigned blockY,
                                  unsigned blockZ, unsigned sharedMemBytes,
                                  void *stream, void **params, void **extra) {
  std::fprintf(stderr,
               "mock: cuLaunchKernel known=%d grid=%ux%ux%u block=%ux%ux%u "
               "shared=%u stream=%d params=%d extra=%d\n",
               function == &fakeFunction, gridX, gridY, gridZ, blockX, blockY,
               blockZ, sharedMemBytes, stream == &fakeStream, params != nullptr,
               extra != nullptr);
  return enter("cuLaunchKernel");
}

MOCK_EXPORT Result cuStreamCreate(void **stream, unsigned flags) {
  std::fprintf(stderr, "mock: cuStreamCreate flags=%u\n", flags);
  *stream = &fakeStream;
  return enter("cuStreamCreate");
}

MOCK_EXPORT Result cuStreamDestroy_v2(void *stream) {
  std::fprintf(stderr, "mock: cuStreamDestroy_v2 known=%d\n",
               stream == &fakeStream);
  return enter("cuStreamDestroy_v2");
}

MOCK_EXPORT Result cuStreamSynchronize(void *stream) {
  std::fprintf(stderr, "mock: cuStreamSynchronize known=%d\n",
               stream == &fakeStream);
  return enter("cuStreamSynchronize");
}

MOCK_EXPORT Result cuStreamWaitEvent(void *stream, void *event,
                                     unsigned flags) {
  std::fprintf(stderr, "mock: cuStreamWaitEvent known=%d flags=%u\n",
               stream == &fakeStream && event == &fakeEvent, flags);
  return enter("cuStreamWaitEvent");
}

MOCK_EXPORT Result cuEventCreate(void **event, unsigned flags) {
  std::fprintf(stderr, "mock: cuEventCreate flags=%u\n", flags);
  *event = &fakeEvent;
  return enter("cuEventCreate");
}

MOCK_EXPORT Result cuEventDestroy_v2(void *event) {
  std::fprintf(stderr, "mock: cuEventDestroy_v2 known=%d\n",
               event == &fakeEvent);
  return enter("cuEventDestroy_v2");
}

MOCK_EXPORT Result cuEventSynchronize(void *event) {
  std::fprintf(stderr, "mock: cuEventSynchronize known=%d\n",
               event == &fakeEvent);
  return enter("cuEventSynchronize");
}

MOCK_EXPORT Result cuEventRecord(void *event, void *stream) {
  std::fprintf(stderr, "mock: cuEventRecord known=%d\n",
               event == &fakeEvent && stream == &fakeStream);
  return enter("cuEventRecord");
}

MOCK_EXPORT Result cuMemAlloc_v2(DevicePtr *ptr, size_t bytes) {
  std::fprintf(stderr, "mock: cuMemAlloc_v2 bytes=%zu\n", bytes);
  *ptr = reinterpret_cast<uintptr_t>(std::malloc(bytes));
  return enter("cuMemAlloc_v2");
}

MOCK_EXPORT Result cuMemAllocManaged(DevicePtr *ptr, size_t bytes,
                                     unsigned flags) {
  std::fprintf(stderr, "mock: cuMemAllocManaged bytes=%zu flags=%u\n", bytes,
               flags);
  *ptr = reinterpret_cast<uintptr_t>(std::malloc(bytes));
  return enter("cuMemAllocManaged");
}

MOCK_EXPORT Result cuMemFree_v2(DevicePtr ptr) {
  std::fprintf(stderr, "mock: cuMemFree_v2\n");
  std::free(reinterpret_cast<void *>(ptr));
  return enter("cuMemFree_v2");
}

MOCK_EXPORT Result cuMemcpyAsync(DevicePtr dst, DevicePtr src, size_t bytes,
                                 void *stream) {
  std::fprintf(stderr, "mock: cuMemcpyAsync bytes=%zu stream=%d\n", bytes,
               stream == &fakeStream);
  std::memcpy(reinterpret_cast<void *>(dst), reinterpret_cast<void *>(src),
              bytes);
  return enter("cuMemcpyAsync");
}

MOCK_EXPORT Result cuMemsetD32Async(DevicePtr dst, unsigned value, size_t count,
                                    void *stream) {
  std::fprintf(stderr, "mock: cuMemsetD32Async value=0x%x count=%zu\n", value,
               count);
  auto *out = reinterpret_cast<uint32_t *>(dst);
  for (size_t i = 0; i < count; ++i)
    out[i] = value;
  return enter("cuMemsetD32Async");
}

MOCK_EXPORT Result cuMemsetD16Async(DevicePtr dst, unsigned short value,
                                    size_t count, void *stream) {
  std::fprintf(stderr, "mock: cuMemsetD16Async value=0x%x count=%zu\n", value,
               count);
  auto *out = reinterpret_cast<uint16_t *>(dst);
  for (size_t i = 0; i < count; ++i)
    out[i] = value;
  return enter("cuMemsetD16Async");
}

MOCK_EXPORT Result cuMemHostRegister_v2(void *ptr, size_t bytes,
                                        unsigned flags) {
  std::fprintf(stderr, "mock: cuMemHostRegister_v2 bytes=%zu flags=%u\n", bytes,
               flags);
  return enter("cuMemHostRegister_v2");
}

MOCK_EXPORT Result cuMemHostUnregister(void *ptr) {
  std::fprintf(stderr, "mock: cuMemHostUnregister\n");
  return enter("cuMemHostUnregister");
}
