//===- CudaRuntime.h - mgpu* CUDA wrappers for gpu-to-llvm code -*- C -*-===//
//
// The C ABI of libmagicpig_cuda_runtime.so. MLIR's --gpu-to-llvm lowering and
// the LLVM IR translation of gpu.binary emit calls to these mgpu* functions;
// Debian ships no libmlir_cuda_runtime, so the project provides them on top
// of the CUDA driver API.
//
// The driver (libcuda.so.1) is opened with dlopen on the first call, not
// linked, so the library loads everywhere. Where there is no usable driver,
// or when a driver call fails, the calling mgpu* function prints one line
// starting with "magicpig: " to stderr and ends the process with exit code 1:
// these functions have no error result that generated code could check.
//
// Opaque handles (modules, functions, streams, events) are passed as void *;
// device pointers are plain addresses. Every call runs in the primary context
// of the calling thread's default device (device 0 unless
// mgpuSetDefaultDevice chose another).
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_RUNTIME_CUDARUNTIME_H
#define MAGICPIG_RUNTIME_CUDARUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "magicpig-runtime/HostRuntime.h"

#ifdef __cplusplus
extern "C" {
#endif

/// Probe for tools and tests: the number of CUDA devices, 0 when the driver
/// loads but sees none, -1 when libcuda.so.1 cannot be used. Never exits.
MAGICPIG_RUNTIME_EXPORT int32_t magicpigCudaDeviceCount(void);

//===----------------------------------------------------------------------===//
// Modules and kernels
//===----------------------------------------------------------------------===//

/// Loads a cubin or fatbin image of `size` bytes; returns the module.
MAGICPIG_RUNTIME_EXPORT void *mgpuModuleLoad(void *data, size_t size);
/// Loads a NUL-terminated PTX image, JIT-compiled by the driver at
/// optimization level `optLevel` (0-4); JIT errors are reported with the
/// driver's log.
MAGICPIG_RUNTIME_EXPORT void *mgpuModuleLoadJIT(void *data, int optLevel);
MAGICPIG_RUNTIME_EXPORT void mgpuModuleUnload(void *module);
MAGICPIG_RUNTIME_EXPORT void *mgpuModuleGetFunction(void *module,
                                                    const char *name);
/// Launches `function` on `stream`. `params` points to `paramsCount` pointers
/// to the kernel arguments; `extra` is passed to cuLaunchKernel unchanged.
/// Dynamic shared memory above the default 48 KiB is opted into first.
MAGICPIG_RUNTIME_EXPORT void
mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY, intptr_t gridZ,
                 intptr_t blockX, intptr_t blockY, intptr_t blockZ,
                 int32_t sharedMemBytes, void *stream, void **params,
                 void **extra, size_t paramsCount);

//===----------------------------------------------------------------------===//
// Streams and events
//===----------------------------------------------------------------------===//

/// Creates a stream that does not synchronize with the legacy NULL stream.
MAGICPIG_RUNTIME_EXPORT void *mgpuStreamCreate(void);
MAGICPIG_RUNTIME_EXPORT void mgpuStreamDestroy(void *stream);
MAGICPIG_RUNTIME_EXPORT void mgpuStreamSynchronize(void *stream);
/// Makes later work on `stream` wait until `event` has completed.
MAGICPIG_RUNTIME_EXPORT void mgpuStreamWaitEvent(void *stream, void *event);
/// Creates an event without timing (cheaper; used only for ordering).
MAGICPIG_RUNTIME_EXPORT void *mgpuEventCreate(void);
MAGICPIG_RUNTIME_EXPORT void mgpuEventDestroy(void *event);
MAGICPIG_RUNTIME_EXPORT void mgpuEventSynchronize(void *event);
MAGICPIG_RUNTIME_EXPORT void mgpuEventRecord(void *event, void *stream);

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

/// Allocates `sizeBytes` of device memory, or of managed memory visible to
/// host and device when `isHostShared` is non-zero (the lowering passes an
/// i8). Returns NULL for 0 bytes. The allocation is not ordered on `stream`.
MAGICPIG_RUNTIME_EXPORT void *mgpuMemAlloc(uint64_t sizeBytes, void *stream,
                                           uint8_t isHostShared);
/// Frees memory from mgpuMemAlloc (NULL is ignored).
MAGICPIG_RUNTIME_EXPORT void mgpuMemFree(void *ptr, void *stream);
/// Copies `sizeBytes` between any two addresses (unified addressing),
/// asynchronously on `stream`.
MAGICPIG_RUNTIME_EXPORT void mgpuMemcpy(void *dst, void *src, size_t sizeBytes,
                                        void *stream);
/// Fills `count` 32-bit (16-bit) elements at `dst` with `value` on `stream`.
MAGICPIG_RUNTIME_EXPORT void mgpuMemset32(void *dst, uint32_t value,
                                          size_t count, void *stream);
MAGICPIG_RUNTIME_EXPORT void mgpuMemset16(void *dst, uint16_t value,
                                          size_t count, void *stream);
/// Page-locks the host buffer of a memref so the device can access it.
/// `descriptor` is a ranked memref descriptor of rank `rank` (allocated and
/// aligned pointers, offset, sizes[rank], strides[rank]); the memref must be
/// contiguous (row-major with unit innermost stride).
MAGICPIG_RUNTIME_EXPORT void
mgpuMemHostRegisterMemRef(int64_t rank, void *descriptor, int64_t elementBytes);
MAGICPIG_RUNTIME_EXPORT void mgpuMemHostUnregisterMemRef(int64_t rank,
                                                         void *descriptor,
                                                         int64_t elementBytes);

/// Selects the device whose primary context later calls on this thread use.
MAGICPIG_RUNTIME_EXPORT void mgpuSetDefaultDevice(int32_t device);

#ifdef __cplusplus
}
#endif

#endif // MAGICPIG_RUNTIME_CUDARUNTIME_H
