// RUN: magicpig-opt %s --convert-magicpig-to-scf -split-input-file | FileCheck %s

// Each size rule of the verifier that involves a dynamic size becomes a
// cf.assert before the loops; rules whose sizes are all static get none.

// CHECK-LABEL: func.func @center_keys_dynamic
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x1x?x8xf32>
// CHECK-SAME: %[[C:[a-zA-Z0-9]+]]: memref<1x1x?x8xf32>
// CHECK-DAG: %[[NK:.+]] = memref.dim %[[K]], %{{.+}} : memref<1x1x?x8xf32>
// CHECK-DAG: %[[NC:.+]] = memref.dim %[[C]], %{{.+}} : memref<1x1x?x8xf32>
// CHECK: %[[SAME:.+]] = arith.cmpi eq, %[[NK]], %[[NC]] : index
// CHECK: cf.assert %[[SAME]], "magicpig.center_keys: sequence length mismatch between 'key' and 'centered'"
// CHECK-NOT: cf.assert
// CHECK: scf.parallel
func.func @center_keys_dynamic(%k: memref<1x1x?x8xf32>, %c: memref<1x1x?x8xf32>,
                               %m: memref<1x1x8xf32>) {
  magicpig.center_keys sink(4) window(8) ins(%k : memref<1x1x?x8xf32>)
    outs(%c, %m : memref<1x1x?x8xf32>, memref<1x1x8xf32>)
  return
}

// -----

// CHECK-LABEL: func.func @center_keys_static
// CHECK-NOT: cf.assert
func.func @center_keys_static(%k: memref<1x1x40x8xf32>, %c: memref<1x1x40x8xf32>,
                              %m: memref<1x1x8xf32>) {
  magicpig.center_keys sink(4) window(8) ins(%k : memref<1x1x40x8xf32>)
    outs(%c, %m : memref<1x1x40x8xf32>, memref<1x1x8xf32>)
  return
}

// -----

// Dynamic query and kv heads: Hkv > 0 and Hq a multiple of it, with the
// remainder taken by max(Hkv, 1).
// CHECK-LABEL: func.func @attention_dynamic_heads
// CHECK-SAME: %[[Q:[a-zA-Z0-9]+]]: memref<1x?x8xf32>
// CHECK-SAME: %[[K:[a-zA-Z0-9]+]]: memref<1x?x16x8xf32>
// CHECK: cf.assert %{{.+}}, "magicpig.attention: kv heads mismatch between 'key' and 'value'"
// CHECK-DAG: %[[HQ:.+]] = memref.dim %[[Q]], %{{.+}} : memref<1x?x8xf32>
// CHECK-DAG: %[[HKV:.+]] = memref.dim %[[K]], %{{.+}} : memref<1x?x16x8xf32>
// CHECK: %[[SOME:.+]] = arith.cmpi ne, %[[HKV]], %{{.+}} : index
// CHECK: %[[DIVISOR:.+]] = arith.maxsi %[[HKV]], %{{.+}} : index
// CHECK: %[[REST:.+]] = arith.remui %[[HQ]], %[[DIVISOR]] : index
// CHECK: %[[WHOLE:.+]] = arith.cmpi eq, %[[REST]], %{{.+}} : index
// CHECK: %[[OK:.+]] = arith.andi %[[SOME]], %[[WHOLE]] : i1
// CHECK: cf.assert %[[OK]], "magicpig.attention: query heads of 'query' must be a multiple of the kv heads of 'key'"
// CHECK: cf.assert %{{.+}}, "magicpig.attention: query heads mismatch between 'query' and 'output'"
// CHECK-NOT: cf.assert
// CHECK: scf.parallel
func.func @attention_dynamic_heads(%q: memref<1x?x8xf32>, %k: memref<1x?x16x8xf32>,
                                   %v: memref<1x?x16x8xf32>, %o: memref<1x?x8xf32>) {
  magicpig.attention scale(0.5)
    ins(%q, %k, %v : memref<1x?x8xf32>, memref<1x?x16x8xf32>, memref<1x?x16x8xf32>)
    outs(%o : memref<1x?x8xf32>)
  return
}

// -----

// A dynamic size against a static one is compared with the constant.
// CHECK-LABEL: func.func @simhash_dynamic_projection
// CHECK-SAME: %[[P:[a-zA-Z0-9]+]]: memref<16x?xf32>
// CHECK-DAG: %[[W:.+]] = memref.dim %[[P]], %{{.+}} : memref<16x?xf32>
// CHECK-DAG: %[[KL:.+]] = arith.constant 8 : index
// CHECK: %[[SAME:.+]] = arith.cmpi eq, %[[W]], %[[KL]] : index
// CHECK: cf.assert %[[SAME]], "magicpig.simhash: 'projection' dim 1 (K * L) must be 8"
// CHECK-NOT: cf.assert
// CHECK: scf.parallel
func.func @simhash_dynamic_projection(%x: memref<32x16xf32>, %p: memref<16x?xf32>,
                                      %c: memref<32x4xi8>) {
  magicpig.simhash bits(2) tables(4)
    ins(%x, %p : memref<32x16xf32>, memref<16x?xf32>) outs(%c : memref<32x4xi8>)
  return
}

// -----

// retrieve clamps its loops to the smallest size instead (no checks).
// CHECK-LABEL: func.func @retrieve_dynamic
// CHECK-NOT: cf.assert
func.func @retrieve_dynamic(%qc: memref<1x?x3xi8>, %off: memref<1x?x3x5xi32>,
                            %idx: memref<1x?x3x?xi32>, %cand: memref<1x?x8xi32>,
                            %counts: memref<1x?xi32>) {
  magicpig.retrieve bits(2) min_collisions(1)
    ins(%qc, %off, %idx : memref<1x?x3xi8>, memref<1x?x3x5xi32>, memref<1x?x3x?xi32>)
    outs(%cand, %counts : memref<1x?x8xi32>, memref<1x?xi32>)
  return
}
