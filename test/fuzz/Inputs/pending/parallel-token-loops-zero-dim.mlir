// Pending fix (lib/Conversion/MagicPIGToSCF/ParallelTokenLoops.cpp): a
// static batch dim of 0 crashes magicpig-parallel-token-loops in the tiling
// it calls (SIGSEGV in mlir::linalg::computeTileSizes from
// scf::tileUsingSCF).
//   magicpig-opt --magicpig-parallel-token-loops parallel-token-loops-zero-dim.mlir
#id = affine_map<(b, i, j) -> (b, i, j)>
#row = affine_map<(b, i, j) -> (b, i)>
func.func @prefill_rows(%x: memref<0x?x64xf32>, %y: memref<0x?x64xf32>, %s: memref<0x?xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%x : memref<0x?x64xf32>) outs(%y : memref<0x?x64xf32>) {
  ^bb0(%in: f32, %out: f32):
    %e = math.exp %in : f32
    linalg.yield %e : f32
  }
  linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%x : memref<0x?x64xf32>) outs(%s : memref<0x?xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %a = arith.addf %acc, %in : f32
    linalg.yield %a : f32
  }
  return
}
