// With overlap-host, a device op's copies back and its blocking wait move
// down to the first later op that may touch its buffers: host ops that only
// read its inputs (or touch unrelated buffers) run while the kernel does.
//
// RUN: magicpig-opt %s --convert-magicpig-to-gpu="overlap-host=true" -split-input-file | FileCheck %s

// The decode layer after magicpig-sink-host-ops and bufferization: window
// attention, then the host's retrieve and estimate (which read the same
// query, keys and values), then the merge that needs both. Intermediate
// results are fresh allocations, which alias no argument; two arguments may
// alias each other, so a host op reading an argument would have to wait for
// a device op writing another one.

// CHECK-LABEL: func.func @decode_layer
// CHECK: %[[OW:.+]] = memref.alloc() : memref<1x4x16xf32>
// CHECK: %[[LW:.+]] = memref.alloc() : memref<1x4xf32>
// CHECK: %[[OS:.+]] = memref.alloc() : memref<1x4x16xf32>
// CHECK: %[[LS:.+]] = memref.alloc() : memref<1x4xf32>
// CHECK: %[[WINDOW:.+]] = gpu.launch async
// CHECK: gpu.terminator
// CHECK-NEXT: }
// CHECK-NOT: gpu.wait [
// CHECK: magicpig.retrieve
// CHECK: magicpig.estimate
// CHECK-SAME: outs(%[[OS]], %[[LS]]
// CHECK: %[[BACK:.+]] = gpu.memcpy async [%[[WINDOW]]] %[[OW]], %{{.+}}
// CHECK: gpu.memcpy async [%[[BACK]]] %[[LW]], %{{.+}}
// CHECK: gpu.wait [%{{.+}}]
// CHECK: %[[MERGE_STREAM:.+]] = gpu.wait async
// CHECK: gpu.memcpy async [%{{.+}}] %{{.+}}, %[[OS]]
// CHECK: gpu.launch async
// CHECK: gpu.wait [%{{.+}}]
// CHECK-NEXT: return
func.func @decode_layer(%q: memref<1x4x16xf32>, %k: memref<1x2x128x16xf32>,
                        %v: memref<1x2x128x16xf32>, %ws: index,
                        %norms: memref<1x2x128xf32>, %mean: memref<1x2x16xf32>,
                        %qc: memref<1x4x8xi16>, %off: memref<1x2x8x257xi32>,
                        %idx: memref<1x2x8x128xi32>,
                        %o: memref<1x4x16xf32>, %l: memref<1x4xf32>) {
  %cand = memref.alloc() : memref<1x4x128xi32>
  %count = memref.alloc() : memref<1x4xi32>
  %ow = memref.alloc() : memref<1x4x16xf32>
  %lw = memref.alloc() : memref<1x4xf32>
  %os = memref.alloc() : memref<1x4x16xf32>
  %ls = memref.alloc() : memref<1x4xf32>
  magicpig.window_attention sink(4) window_start(%ws) scale(0.25)
    ins(%q, %k, %v : memref<1x4x16xf32>, memref<1x2x128x16xf32>, memref<1x2x128x16xf32>)
    outs(%ow, %lw : memref<1x4x16xf32>, memref<1x4xf32>)
  magicpig.retrieve bits(8) min_collisions(2)
    ins(%qc, %off, %idx : memref<1x4x8xi16>, memref<1x2x8x257xi32>, memref<1x2x8x128xi32>)
    outs(%cand, %count : memref<1x4x128xi32>, memref<1x4xi32>)
  magicpig.estimate bits(8) tables(8) min_collisions(2) scale(0.25)
    ins(%q, %k, %v, %norms, %mean, %cand, %count : memref<1x4x16xf32>, memref<1x2x128x16xf32>, memref<1x2x128x16xf32>, memref<1x2x128xf32>, memref<1x2x16xf32>, memref<1x4x128xi32>, memref<1x4xi32>)
    outs(%os, %ls : memref<1x4x16xf32>, memref<1x4xf32>)
  magicpig.merge ins(%os, %ls, %ow, %lw : memref<1x4x16xf32>, memref<1x4xf32>, memref<1x4x16xf32>, memref<1x4xf32>)
                 outs(%o, %l : memref<1x4x16xf32>, memref<1x4xf32>)
  memref.dealloc %cand : memref<1x4x128xi32>
  memref.dealloc %count : memref<1x4xi32>
  return
}

// -----

// A host op that writes a buffer the device reads must wait: the completion
// stays in front of it.

// CHECK-LABEL: func.func @host_writes_input
// CHECK: gpu.launch async
// CHECK: gpu.wait [%{{.+}}]
// CHECK-NEXT: memref.store
func.func @host_writes_input(%oa: memref<1x4x8xf32>, %la: memref<1x4xf32>,
                             %o: memref<1x4x8xf32>, %l: memref<1x4xf32>,
                             %x: f32) {
  %c0 = arith.constant 0 : index
  magicpig.merge ins(%oa, %la, %oa, %la : memref<1x4x8xf32>, memref<1x4xf32>, memref<1x4x8xf32>, memref<1x4xf32>)
                 outs(%o, %l : memref<1x4x8xf32>, memref<1x4xf32>)
  %unrelated = arith.addf %x, %x : f32
  memref.store %unrelated, %la[%c0, %c0] : memref<1x4xf32>
  return
}

// -----

// A call may touch anything: the wait comes before it.

// CHECK-LABEL: func.func @call_after
// CHECK: gpu.launch async
// CHECK: gpu.wait [%{{.+}}]
// CHECK-NEXT: call @opaque
func.func private @opaque()
func.func @call_after(%oa: memref<1x4x8xf32>, %la: memref<1x4xf32>,
                      %o: memref<1x4x8xf32>, %l: memref<1x4xf32>) {
  magicpig.merge ins(%oa, %la, %oa, %la : memref<1x4x8xf32>, memref<1x4xf32>, memref<1x4x8xf32>, memref<1x4xf32>)
                 outs(%o, %l : memref<1x4x8xf32>, memref<1x4xf32>)
  call @opaque() : () -> ()
  return
}

// -----

// Two device ops issued back to back, the first (the query SimHash) read by
// the host op after the second: the first one's blocking wait, placed just
// before that host op, waits for its own stream only, so it does not hold
// back the completion of the window attention, which still moves past the
// host's retrieve.

// CHECK-LABEL: func.func @two_device_ops
// CHECK: %[[QHASH:.+]] = gpu.launch async
// CHECK: %[[WINDOW:.+]] = gpu.launch async
// CHECK-NOT: gpu.wait [
// CHECK: gpu.memcpy async [%[[QHASH]]]
// CHECK: gpu.wait [%{{.+}}]
// CHECK-NOT: gpu.wait [
// CHECK: magicpig.retrieve
// CHECK: gpu.memcpy async [%[[WINDOW]]]
// CHECK: gpu.wait [%{{.+}}]
// CHECK-NOT: magicpig.
// CHECK: return
func.func @two_device_ops(%q: memref<1x4x16xf32>, %p: memref<16x64xf32>,
                          %k: memref<1x2x128x16xf32>, %v: memref<1x2x128x16xf32>,
                          %ws: index, %off: memref<1x2x8x257xi32>,
                          %idx: memref<1x2x8x128xi32>) {
  %qc = memref.alloc() : memref<1x4x8xi16>
  %ow = memref.alloc() : memref<1x4x16xf32>
  %lw = memref.alloc() : memref<1x4xf32>
  %cand = memref.alloc() : memref<1x4x128xi32>
  %count = memref.alloc() : memref<1x4xi32>
  magicpig.simhash bits(8) tables(8) ins(%q, %p : memref<1x4x16xf32>, memref<16x64xf32>)
    outs(%qc : memref<1x4x8xi16>)
  magicpig.window_attention sink(4) window_start(%ws) scale(0.25)
    ins(%q, %k, %v : memref<1x4x16xf32>, memref<1x2x128x16xf32>, memref<1x2x128x16xf32>)
    outs(%ow, %lw : memref<1x4x16xf32>, memref<1x4xf32>)
  magicpig.retrieve bits(8) min_collisions(2)
    ins(%qc, %off, %idx : memref<1x4x8xi16>, memref<1x2x8x257xi32>, memref<1x2x8x128xi32>)
    outs(%cand, %count : memref<1x4x128xi32>, memref<1x4xi32>)
  return
}
