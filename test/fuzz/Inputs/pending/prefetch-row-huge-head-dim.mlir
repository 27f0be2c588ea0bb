// Pending fix (lib/Conversion/MagicPIGToSCF, prefetchRow): a static head dim
// of 2^31 makes convert-magicpig-to-scf build one prefetch per cache line of
// a key row; it runs for minutes and runs out of memory (LLVM ERROR: out of
// memory under a 4 GB limit). mutate.py does not generate head dims >= 2^31
// for the lowering pipelines (HUGE_DIM_LOWERINGS) until this is fixed.
//   (ulimit -v 4000000; magicpig-opt --convert-magicpig-to-scf prefetch-row-huge-head-dim.mlir)

func.func @decode_gqa_bf16(%q: memref<1x32x2147483648xf32>, %k: memref<1x8x?x2147483648xbf16>,
                           %v: memref<1x8x?x2147483648xbf16>, %o: memref<1x32x2147483648xbf16>) {
  magicpig.attention scale(0.0883883)
    ins(%q, %k, %v : memref<1x32x2147483648xf32>, memref<1x8x?x2147483648xbf16>, memref<1x8x?x2147483648xbf16>)
    outs(%o : memref<1x32x2147483648xbf16>)
  return
}


