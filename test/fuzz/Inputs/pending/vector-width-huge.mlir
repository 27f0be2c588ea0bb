// Pending fix (lib/Conversion/MagicPIGToSCF, vector-width): a vector width of
// 2^32 passes the option check (>= 1) and buildTransposedSums runs out of
// memory (LLVM ERROR: out of memory); the same through
// --magicpig-cpu-pipeline=vector-width=4294967296.
//   magicpig-opt --convert-magicpig-to-scf=vector-width=4294967296 vector-width-huge.mlir

func.func @decode_gqa_bf16(%q: memref<1x32x128xf32>, %k: memref<1x8x?x128xbf16>,
                           %v: memref<1x8x?x128xbf16>, %o: memref<1x32x128xbf16>) {
  magicpig.attention scale(0.0883883)
    ins(%q, %k, %v : memref<1x32x128xf32>, memref<1x8x?x128xbf16>, memref<1x8x?x128xbf16>)
    outs(%o : memref<1x32x128xbf16>)
  return
}


