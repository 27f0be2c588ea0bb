// RUN: magicpig-opt %s --magicpig-early-dealloc --split-input-file | FileCheck %s

#id = affine_map<(i) -> (i)>

// Two buffers freed at the end of the block (as the buffer deallocation
// pipeline leaves them) move to right after their last use: %a's last use
// is through a subview inside an scf.for (counted at the loop), %b's is
// the generic that reads it.
// CHECK-LABEL: func.func @layers(
// CHECK:         %[[A:.+]] = memref.alloc
// CHECK:         linalg.fill {{.+}} outs(%[[A]]
// CHECK:         %[[B:.+]] = memref.alloc
// CHECK:         linalg.generic {{.+}} ins(%[[A]] : {{.+}}) outs(%[[B]]
// CHECK:         scf.for
// CHECK:           memref.subview %[[A]]
// CHECK:         }
// CHECK-NEXT:    memref.dealloc %[[A]]
// CHECK-NEXT:    linalg.generic {{.+}} ins(%[[B]] : {{.+}}) outs(%{{.+}}
// CHECK:         }
// CHECK-NEXT:    memref.dealloc %[[B]]
// CHECK-NEXT:    linalg.fill
// CHECK-NEXT:    return
func.func @layers(%n: index, %out: memref<?xf32>, %other: memref<?xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc(%n) : memref<?xf32>
  linalg.fill ins(%zero : f32) outs(%a : memref<?xf32>)
  %b = memref.alloc(%n) : memref<?xf32>
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%a : memref<?xf32>) outs(%b : memref<?xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  scf.for %i = %c0 to %n step %c1 {
    %v = memref.subview %a[%i] [1] [1] : memref<?xf32> to memref<1xf32, strided<[1], offset: ?>>
    linalg.fill ins(%zero : f32) outs(%v : memref<1xf32, strided<[1], offset: ?>>)
  }
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel"]}
      ins(%b : memref<?xf32>) outs(%out : memref<?xf32>) {
  ^bb0(%x: f32, %y: f32):
    linalg.yield %x : f32
  }
  linalg.fill ins(%zero : f32) outs(%other : memref<?xf32>)
  memref.dealloc %a : memref<?xf32>
  memref.dealloc %b : memref<?xf32>
  return
}

// -----

// Kept at the end: a buffer that an op other than a view may return (here
// through arith.select), and a buffer not from memref.alloc.
// CHECK-LABEL: func.func @kept(
// CHECK:         arith.select
// CHECK:         linalg.fill
// CHECK:         linalg.fill
// CHECK-NEXT:    memref.dealloc %{{.+}} : memref<?xf32>
// CHECK-NEXT:    memref.dealloc %{{.+}} : memref<?xf32>
// CHECK-NEXT:    return
func.func @kept(%n: index, %c: i1, %arg: memref<?xf32>) {
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc(%n) : memref<?xf32>
  %s = arith.select %c, %a, %arg : memref<?xf32>
  linalg.fill ins(%zero : f32) outs(%s : memref<?xf32>)
  linalg.fill ins(%zero : f32) outs(%arg : memref<?xf32>)
  memref.dealloc %a : memref<?xf32>
  memref.dealloc %arg : memref<?xf32>
  return
}
