//===- BufferizableOpInterfaceImpl.cpp - Bufferization of magicpig ops ----===//
//
// Every magicpig op is destination-style: `ins` are read, `outs` are read
// and written, and tensor result i is `outs` operand i. The upstream
// DstBufferizableOpInterfaceExternalModel states exactly that aliasing; this
// file adds the rewrite itself: the same op on the operands' buffers, with no
// results, the `outs` buffers standing in for the tensor results.
//
//===----------------------------------------------------------------------===//

#include "magicpig/Dialect/MagicPIG/Transforms/BufferizableOpInterfaceImpl.h"

#include "magicpig/Dialect/MagicPIG/IR/MagicPIGDialect.h"
#include "magicpig/Dialect/MagicPIG/IR/MagicPIGOps.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/DstBufferizableOpInterfaceImpl.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::bufferization;

namespace {
template <typename OpTy>
struct MagicPIGOpInterface
    : DstBufferizableOpInterfaceExternalModel<MagicPIGOpInterface<OpTy>, OpTy> {
  LogicalResult bufferize(Operation *op, RewriterBase &rewriter,
                          const BufferizationOptions &options,
                          BufferizationState &state) const {
    auto dpsOp = cast<DestinationStyleOpInterface>(op);
    if (dpsOp.hasPureBufferSemantics())
      return success();

    // Tensor operands become their buffers; non-shaped operands (the
    // window_start index) are kept as they are.
    SmallVector<Value> operands, resultBuffers;
    for (OpOperand &operand : op->getOpOperands()) {
      Value value = operand.get();
      if (!isa<TensorType>(value.getType())) {
        operands.push_back(value);
        continue;
      }
      FailureOr<Value> buffer = getBuffer(rewriter, value, options, state);
      if (failed(buffer))
        return failure();
      operands.push_back(*buffer);
      if (dpsOp.isDpsInit(&operand))
        resultBuffers.push_back(*buffer);
    }

    // The memref form: same name, attributes and properties, no results.
    rewriter.setInsertionPoint(op);
    Operation *bufferized = Operation::create(
        op->getLoc(), op->getName(), /*resultTypes=*/TypeRange(), operands,
        NamedAttrList(op->getDiscardableAttrDictionary()),
        op->getPropertiesStorage(), /*successors=*/BlockRange(),
        /*numRegions=*/0);
    rewriter.insert(bufferized);
    replaceOpWithBufferizedValues(rewriter, op, resultBuffers);
    return success();
  }
};

template <typename... OpTys> void attachToAll(MLIRContext *ctx) {
  (OpTys::template attachInterface<MagicPIGOpInterface<OpTys>>(*ctx), ...);
}
} // namespace

void mlir::magicpig::registerBufferizableOpInterfaceExternalModels(
    DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, MagicPIGDialect *) {
    attachToAll<AttentionOp, CenterKeysOp, KeyNormsOp, SimHashOp, BuildTablesOp,
                RetrieveOp, EstimateOp, WindowAttentionOp, MergeOp>(ctx);
  });
}
