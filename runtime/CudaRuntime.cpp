//===- CudaRuntime.cpp - mgpu* wrappers on the CUDA driver API ------------===//
//
// Implements magicpig-runtime/CudaRuntime.h. The driver is reached through
// dlopen("libcuda.so.1") on first use rather than by linking -lcuda, so that
// this library (and magicpig-run, which loads it for GPU programs) still
// loads on machines without a driver and fails with one clear line instead.
//
//===----------------------------------------------------------------------===//

#include "magicpig-runtime/CudaRuntime.h"

#include <cuda.h>
#include <dlfcn.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

// Every driver entry point used below. cuda.h maps several of these names to
// versioned symbols (cuMemAlloc -> cuMemAlloc_v2); the member type and the
// dlsym name below are both taken from the macro-expanded name, so they
// always agree with the ABI the header describes.
#define MAGICPIG_CUDA_DRIVER_FUNCTIONS(X)                                      \
  X(cuInit)                                                                    \
  X(cuGetErrorName)                                                            \
  X(cuGetErrorString)                                                          \
  X(cuDeviceGetCount)                                                          \
  X(cuDeviceGet)                                                               \
  X(cuDevicePrimaryCtxRetain)                                                  \
  X(cuCtxSetCurrent)                                                           \
  X(cuModuleLoadData)                                                          \
  X(cuModuleLoadDataEx)                                                        \
  X(cuModuleUnload)                                                            \
  X(cuModuleGetFunction)                                                       \
  X(cuFuncSetAttribute)                                                        \
  X(cuLaunchKernel)                                                            \
  X(cuStreamCreate)                                                            \
  X(cuStreamDestroy)                                                           \
  X(cuStreamSynchronize)                                                       \
  X(cuStreamWaitEvent)                                                         \
  X(cuEventCreate)                                                             \
  X(cuEventDestroy)                                                            \
  X(cuEventSynchronize)                                                        \
  X(cuEventRecord)                                                             \
  X(cuMemAlloc)                                                                \
  X(cuMemAllocManaged)                                                         \
  X(cuMemFree)                                                                 \
  X(cuMemcpyAsync)                                                             \
  X(cuMemsetD32Async)                                                          \
  X(cuMemsetD16Async)                                                          \
  X(cuMemHostRegister)                                                         \
  X(cuMemHostUnregister)

#define MAGICPIG_STRINGIFY(name) #name
#define MAGICPIG_SYMBOL_NAME(name) MAGICPIG_STRINGIFY(name)

namespace {

struct Driver {
#define MAGICPIG_DECLARE_POINTER(fn) decltype(&::fn) fn = nullptr;
  MAGICPIG_CUDA_DRIVER_FUNCTIONS(MAGICPIG_DECLARE_POINTER)
#undef MAGICPIG_DECLARE_POINTER

  /// Why libcuda.so.1 could not be opened or lacks a symbol; empty if fine.
  std::string loadProblem;
  /// The result of cuInit(0) once the library loaded.
  CUresult initResult = CUDA_ERROR_NOT_INITIALIZED;
};

} // namespace

/// Prints "magicpig: <message>" as one line and ends the process. The mgpu*
/// ABI has no error results, so continuing would only compute garbage; _Exit
/// (after flushing what the program printed) avoids running destructors while
/// the JIT-compiled caller is still on the stack.
[[noreturn]] __attribute__((format(printf, 1, 2))) static void
fatal(const char *format, ...) {
  std::fflush(stdout);
  std::fputs("magicpig: ", stderr);
  va_list args;
  va_start(args, format);
  std::vfprintf(stderr, format, args);
  va_end(args);
  std::fputc('\n', stderr);
  std::fflush(stderr);
  std::_Exit(1);
}

static std::string describe(const Driver &d, CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (d.cuGetErrorName)
    d.cuGetErrorName(result, &name);
  if (d.cuGetErrorString)
    d.cuGetErrorString(result, &text);
  std::string out = name ? name : "CUresult " + std::to_string(result);
  if (text)
    out += std::string(": ") + text;
  return out;
}

static Driver loadDriver() {
  Driver d;
  void *library = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *error = dlerror();
    d.loadProblem = error ? error : "libcuda.so.1: cannot be opened";
    return d;
  }
#define MAGICPIG_RESOLVE(fn)                                                   \
  d.fn = reinterpret_cast<decltype(d.fn)>(                                     \
      dlsym(library, MAGICPIG_SYMBOL_NAME(fn)));                               \
  if (!d.fn) {                                                                 \
    d.loadProblem = "libcuda.so.1 lacks " MAGICPIG_SYMBOL_NAME(fn);            \
    return d;                                                                  \
  }
  MAGICPIG_CUDA_DRIVER_FUNCTIONS(MAGICPIG_RESOLVE)
#undef MAGICPIG_RESOLVE
  d.initResult = d.cuInit(/*Flags=*/0);
  return d;
}

/// The driver as loaded by the first caller (thread-safe static init).
/// Never destroyed: compiled graphs unload their kernels from global
/// destructors, which may run after this library's statics are gone.
static const Driver &loadedDriver() {
  static const Driver *d = new Driver(loadDriver());
  return *d;
}

/// The driver, or the one-line error when it cannot be used.
static const Driver &usableDriver() {
  const Driver &d = loadedDriver();
  if (!d.loadProblem.empty())
    fatal("CUDA driver not available (%s)", d.loadProblem.c_str());
  if (d.initResult != CUDA_SUCCESS)
    fatal("CUDA driver not available (cuInit: %s)",
          describe(d, d.initResult).c_str());
  return d;
}

static void check(const Driver &d, CUresult result, const char *call) {
  if (result != CUDA_SUCCESS)
    fatal("%s failed: %s", call, describe(d, result).c_str());
}

// Per-thread state, like the CUDA runtime API's current device.
static thread_local int32_t defaultDevice = 0;
static thread_local CUcontext boundContext = nullptr;

/// Makes the primary context of this thread's default device current (it is
/// retained once per device and kept for the life of the process) and returns
/// the driver. Every mgpu* entry point starts here.
static const Driver &activate() {
  const Driver &d = usableDriver();
  // Never destroyed, as the driver above.
  static std::mutex &mutex = *new std::mutex;
  static std::vector<CUcontext> &primaryContexts = *new std::vector<CUcontext>;
  CUcontext context;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (primaryContexts.empty()) {
      int count = 0;
      check(d, d.cuDeviceGetCount(&count), "cuDeviceGetCount");
      primaryContexts.assign(count, nullptr);
    }
    if (defaultDevice < 0 ||
        defaultDevice >= static_cast<int32_t>(primaryContexts.size()))
      fatal("CUDA device %d does not exist (%zu found)", defaultDevice,
            primaryContexts.size());
    CUcontext &slot = primaryContexts[defaultDevice];
    if (!slot) {
      CUdevice device;
      check(d, d.cuDeviceGet(&device, defaultDevice), "cuDeviceGet");
      check(d, d.cuDevicePrimaryCtxRetain(&slot, device),
            "cuDevicePrimaryCtxRetain");
    }
    context = slot;
  }
  if (context != boundContext) {
    check(d, d.cuCtxSetCurrent(context), "cuCtxSetCurrent");
    boundContext = context;
  }
  return d;
}

int32_t magicpigCudaDeviceCount(void) {
  const Driver &d = loadedDriver();
  if (!d.loadProblem.empty())
    return -1;
  int count = 0;
  if (d.initResult != CUDA_SUCCESS ||
      d.cuDeviceGetCount(&count) != CUDA_SUCCESS)
    return 0;
  return count;
}

//===----------------------------------------------------------------------===//
// Modules and kernels
//===----------------------------------------------------------------------===//

void *mgpuModuleLoad(void *data, size_t /*size: cubin/fatbin carry it*/) {
  const Driver &d = activate();
  CUmodule module = nullptr;
  check(d, d.cuModuleLoadData(&module, data), "cuModuleLoadData");
  return module;
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
  const Driver &d = activate();
  // Ask for the JIT log so that a PTX error is reported with its reason.
  char log[4096] = {0};
  CUjit_option options[] = {CU_JIT_OPTIMIZATION_LEVEL, CU_JIT_ERROR_LOG_BUFFER,
                            CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES};
  int level = optLevel < 0 ? 0 : (optLevel > 4 ? 4 : optLevel);
  void *values[] = {reinterpret_cast<void *>(static_cast<uintptr_t>(level)),
                    log, reinterpret_cast<void *>(sizeof(log))};
  CUmodule module = nullptr;
  CUresult result = d.cuModuleLoadDataEx(&module, data, 3, options, values);
  if (result != CUDA_SUCCESS) {
    for (char &c : log) // Keep the report on one line.
      if (c == '\n')
        c = ' ';
    fatal("cuModuleLoadDataEx could not JIT-compile the PTX: %s: %s",
          describe(d, result).c_str(), log);
  }
  return module;
}

void mgpuModuleUnload(void *module) {
  const Driver &d = activate();
  check(d, d.cuModuleUnload(static_cast<CUmodule>(module)), "cuModuleUnload");
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  const Driver &d = activate();
  CUfunction function = nullptr;
  CUresult result =
      d.cuModuleGetFunction(&function, static_cast<CUmodule>(module), name);
  if (result != CUDA_SUCCESS)
    fatal("cuModuleGetFunction(\"%s\") failed: %s", name,
          describe(d, result).c_str());
  return function;
}

/// True when `value` is a valid launch dimension for the driver.
static bool isLaunchDim(intptr_t value) {
  return value > 0 && static_cast<uintmax_t>(value) <= 0xffffffffu;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t sharedMemBytes, void *stream,
                      void **params, void **extra, size_t /*paramsCount*/) {
  const Driver &d = activate();
  // Generated code computes these as index values; reject what the driver's
  // unsigned parameters would silently wrap.
  if (!isLaunchDim(gridX) || !isLaunchDim(gridY) || !isLaunchDim(gridZ) ||
      !isLaunchDim(blockX) || !isLaunchDim(blockY) || !isLaunchDim(blockZ) ||
      sharedMemBytes < 0)
    fatal("invalid kernel launch: grid (%jd, %jd, %jd), block (%jd, %jd, "
          "%jd), %d bytes of shared memory",
          static_cast<intmax_t>(gridX), static_cast<intmax_t>(gridY),
          static_cast<intmax_t>(gridZ), static_cast<intmax_t>(blockX),
          static_cast<intmax_t>(blockY), static_cast<intmax_t>(blockZ),
          sharedMemBytes);
  auto kernel = static_cast<CUfunction>(function);
  // Above 48 KiB a kernel must opt in to its dynamic shared memory size.
  if (sharedMemBytes > 48 * 1024)
    check(d,
          d.cuFuncSetAttribute(kernel,
                               CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                               sharedMemBytes),
          "cuFuncSetAttribute");
  check(d,
        d.cuLaunchKernel(kernel, gridX, gridY, gridZ, blockX, blockY, blockZ,
                         sharedMemBytes, static_cast<CUstream>(stream), params,
                         extra),
        "cuLaunchKernel");
}

//===----------------------------------------------------------------------===//
// Streams and events
//===----------------------------------------------------------------------===//

void *mgpuStreamCreate(void) {
  const Driver &d = activate();
  CUstream stream = nullptr;
  check(d, d.cuStreamCreate(&stream, CU_STREAM_NON_BLOCKING), "cuStreamCreate");
  return stream;
}

void mgpuStreamDestroy(void *stream) {
  const Driver &d = activate();
  check(d, d.cuStreamDestroy(static_cast<CUstream>(stream)), "cuStreamDestroy");
}

void mgpuStreamSynchronize(void *stream) {
  const Driver &d = activate();
  // Asynchronous kernel faults surface here, reported by check().
  check(d, d.cuStreamSynchronize(static_cast<CUstream>(stream)),
        "cuStreamSynchronize");
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  const Driver &d = activate();
  check(d,
        d.cuStreamWaitEvent(static_cast<CUstream>(stream),
                            static_cast<CUevent>(event), /*Flags=*/0),
        "cuStreamWaitEvent");
}

void *mgpuEventCreate(void) {
  const Driver &d = activate();
  CUevent event = nullptr;
  check(d, d.cuEventCreate(&event, CU_EVENT_DISABLE_TIMING), "cuEventCreate");
  return event;
}

void mgpuEventDestroy(void *event) {
  const Driver &d = activate();
  check(d, d.cuEventDestroy(static_cast<CUevent>(event)), "cuEventDestroy");
}

void mgpuEventSynchronize(void *event) {
  const Driver &d = activate();
  check(d, d.cuEventSynchronize(static_cast<CUevent>(event)),
        "cuEventSynchronize");
}

void mgpuEventRecord(void *event, void *stream) {
  const Driver &d = activate();
  check(d,
        d.cuEventRecord(static_cast<CUevent>(event),
                        static_cast<CUstream>(stream)),
        "cuEventRecord");
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

void *mgpuMemAlloc(uint64_t sizeBytes, void * /*stream*/,
                   uint8_t isHostShared) {
  const Driver &d = activate();
  if (sizeBytes == 0) // The driver rejects empty allocations.
    return nullptr;
  CUdeviceptr ptr = 0;
  if (isHostShared)
    check(d, d.cuMemAllocManaged(&ptr, sizeBytes, CU_MEM_ATTACH_GLOBAL),
          "cuMemAllocManaged");
  else
    check(d, d.cuMemAlloc(&ptr, sizeBytes), "cuMemAlloc");
  return reinterpret_cast<void *>(ptr);
}

void mgpuMemFree(void *ptr, void * /*stream*/) {
  const Driver &d = activate();
  if (ptr)
    check(d, d.cuMemFree(reinterpret_cast<CUdeviceptr>(ptr)), "cuMemFree");
}

void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream) {
  const Driver &d = activate();
  if (sizeBytes == 0) // An empty buffer has no device pointer (mgpuMemAlloc).
    return;
  check(d,
        d.cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst),
                        reinterpret_cast<CUdeviceptr>(src), sizeBytes,
                        static_cast<CUstream>(stream)),
        "cuMemcpyAsync");
}

void mgpuMemset32(void *dst, uint32_t value, size_t count, void *stream) {
  const Driver &d = activate();
  if (count == 0)
    return;
  check(d,
        d.cuMemsetD32Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                           static_cast<CUstream>(stream)),
        "cuMemsetD32Async");
}

void mgpuMemset16(void *dst, uint16_t value, size_t count, void *stream) {
  const Driver &d = activate();
  if (count == 0)
    return;
  check(d,
        d.cuMemsetD16Async(reinterpret_cast<CUdeviceptr>(dst), value, count,
                           static_cast<CUstream>(stream)),
        "cuMemsetD16Async");
}

namespace {
/// The bytes a contiguous ranked memref covers, read from its descriptor:
/// { T *allocated; T *aligned; int64_t offset, sizes[rank], strides[rank]; }.
struct MemRefSpan {
  char *begin;
  uint64_t bytes;
};
} // namespace

static MemRefSpan getContiguousSpan(int64_t rank, void *descriptor,
                                    int64_t elementBytes, const char *caller) {
  auto *fields = static_cast<char *>(descriptor);
  char *aligned;
  std::memcpy(&aligned, fields + sizeof(void *), sizeof(aligned));
  const auto *ints =
      reinterpret_cast<const int64_t *>(fields + 2 * sizeof(void *));
  int64_t offset = ints[0];
  const int64_t *sizes = ints + 1;
  const int64_t *strides = sizes + rank;
  // Row-major with unit innermost stride; a dimension of size 1 may carry
  // any stride.
  int64_t elements = 1;
  for (int64_t dim = rank - 1; dim >= 0; --dim) {
    if (sizes[dim] != 1 && strides[dim] != elements)
      fatal("%s: only contiguous memrefs can be registered (dimension %jd "
            "has stride %jd, expected %jd)",
            caller, static_cast<intmax_t>(dim),
            static_cast<intmax_t>(strides[dim]),
            static_cast<intmax_t>(elements));
    elements *= sizes[dim];
  }
  return {aligned + offset * elementBytes,
          static_cast<uint64_t>(elements * elementBytes)};
}

void mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor,
                               int64_t elementBytes) {
  const Driver &d = activate();
  MemRefSpan span = getContiguousSpan(rank, descriptor, elementBytes,
                                      "mgpuMemHostRegisterMemRef");
  if (span.bytes != 0) // The driver rejects empty ranges.
    check(d, d.cuMemHostRegister(span.begin, span.bytes, /*Flags=*/0),
          "cuMemHostRegister");
}

void mgpuMemHostUnregisterMemRef(int64_t rank, void *descriptor,
                                 int64_t elementBytes) {
  const Driver &d = activate();
  MemRefSpan span = getContiguousSpan(rank, descriptor, elementBytes,
                                      "mgpuMemHostUnregisterMemRef");
  if (span.bytes != 0)
    check(d, d.cuMemHostUnregister(span.begin), "cuMemHostUnregister");
}

void mgpuSetDefaultDevice(int32_t device) { defaultDevice = device; }
