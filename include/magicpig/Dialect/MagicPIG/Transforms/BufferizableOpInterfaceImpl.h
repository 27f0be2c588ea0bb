//===- BufferizableOpInterfaceImpl.h - Bufferize magicpig ops -*- C++ -*-===//
//
// External models of BufferizableOpInterface for the magicpig ops, so that
// One-Shot Bufferize turns their tensor form into their memref form.
//
//===----------------------------------------------------------------------===//

#ifndef MAGICPIG_DIALECT_MAGICPIG_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
#define MAGICPIG_DIALECT_MAGICPIG_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H

namespace mlir {
class DialectRegistry;
namespace magicpig {

/// Attaches the bufferization model to every magicpig op when the dialect is
/// loaded.
void registerBufferizableOpInterfaceExternalModels(DialectRegistry &registry);

} // namespace magicpig
} // namespace mlir

#endif // MAGICPIG_DIALECT_MAGICPIG_TRANSFORMS_BUFFERIZABLEOPINTERFACEIMPL_H
