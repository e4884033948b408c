"""Compression: quantization, pruning, their accuracy/size trade-off, and knowledge distillation.

The Compression page's room. May import: cnnviz.errors, cnnviz.architecture (models), cnnviz.inside
(shipped models), cnnviz.io (data), cnnviz.training (events), torch."""
from cnnviz.compression.quantize import (QuantParams, quant_params, fake_quantize, quantize_model)
from cnnviz.compression.prune import (PRUNABLE, prunable_layers, channel_scores, prune_model, prune_scores,
    tau_for_sparsity, LayerSparsity, sparsity_per_layer, overall_sparsity)
from cnnviz.compression.evaluate import (tensor_bytes, model_size_bytes, predict, accuracy, TradeoffPoint,
    tradeoff_curves)
from cnnviz.compression.distill import (check_mix, distillation_loss, FitEvent, train_epochs, fit, DistillConfig,
    run_distill, reference_model, digits_model)

__all__ = ["QuantParams", "quant_params", "fake_quantize", "quantize_model", "PRUNABLE", "prunable_layers",
           "channel_scores", "prune_model", "prune_scores", "tau_for_sparsity", "LayerSparsity",
           "sparsity_per_layer", "overall_sparsity", "tensor_bytes", "model_size_bytes", "predict", "accuracy",
           "TradeoffPoint", "tradeoff_curves", "check_mix", "distillation_loss", "FitEvent", "train_epochs", "fit",
           "DistillConfig", "run_distill", "reference_model", "digits_model"]
