"""Inside the network: feature maps and channel statistics, saliency (captum, one verb: ``attribute``; Grad-CAM++
and Score-CAM written here), adversarial examples (FGSM, PGD, accuracy against ε), the embedding space (penultimate
features, PCA, t-SNE as a job, a training run before and after), feature visualisation by optimisation
(``visualise_channel``), the shipped pretrained models, and the Clever Hans demonstration.

The Feature Maps and Saliency pages' room. May import: cnnviz.errors, cnnviz.device, cnnviz.io,
cnnviz.architecture (models), cnnviz.training (checkpoints), cnnviz.jobs (the events a job kind ends with),
torch, captum."""
from cnnviz.inside.saliency import (METHODS, LABELS, BASELINES, eval_mode, conv_layers, make_baseline, attribute,
    to_map, spearman, SanityRow, parameter_layers, sanity_check, CAMS, gradcam_plus_plus, score_cam)
from cnnviz.inside.adversarial import (ADV_MAX_STEPS, ADV_MAX_EPSILONS, ADV_MAX_IMAGES, ATTACKS, INPUT_RANGE,
    fgsm, pgd, accuracy_vs_eps, Attack, attack_one)
from cnnviz.inside.features import (leaf_modules, capture, layer_kind, first_conv_kernels, probabilities,
    ChannelStats, channel_stats, shift, EquivarianceRow, equivariance, rotation_change)
from cnnviz.inside.shipped import (ROOT, MODEL_DIR, SAMPLE_DIR, INDEX, MAX_CHECKPOINT_BYTES, ModelInfo,
    list_models, load_model, load_uploaded, accuracy, train, validation_set, samples_for, SOURCES, input_image)
from cnnviz.inside.cleverhans import (PATCH, PATCH_COLOURS, add_patch, patch_mask, load_cleverhans, swapped,
    patch_share)
from cnnviz.inside.feature_vis import (REGULARISERS, FeatureVis, forward_flops, check_cost,
    visualise_channel, channel_means)
from cnnviz.inside.feature_vis_job import (FeatureVisJob, FeatureVisStep, FeatureVisDone, estimate_seconds,
    runs_as_job, INLINE_MAX_S)
from cnnviz.inside.embedding import (EMBED_BATCH, EMBED_MAX_IMAGES, last_linear, penultimate_features, Projection,
    pca_2d, Embedding, embedding, project)
from cnnviz.inside.embedding_tsne import (TSNE_MAX_POINTS, TSNE_MAX_PERPLEXITY, TSNE_ITER_RANGE, check_perplexity,
    tsne_2d, TsneStep, TsneResult, TsneJob)
from cnnviz.inside.embedding_runs import RunCheckpoint, run_checkpoint, first_and_last

__all__ = ["METHODS", "LABELS", "BASELINES", "eval_mode", "conv_layers", "make_baseline", "attribute", "to_map",
           "spearman", "SanityRow", "parameter_layers", "sanity_check", "CAMS", "gradcam_plus_plus", "score_cam",
           "ADV_MAX_STEPS", "ADV_MAX_EPSILONS", "ADV_MAX_IMAGES", "ATTACKS", "INPUT_RANGE", "fgsm", "pgd",
           "accuracy_vs_eps", "Attack", "attack_one",
           "leaf_modules", "capture", "layer_kind",
           "first_conv_kernels", "probabilities", "ChannelStats", "channel_stats", "shift", "EquivarianceRow",
           "equivariance", "rotation_change", "ROOT", "MODEL_DIR", "SAMPLE_DIR", "INDEX", "MAX_CHECKPOINT_BYTES",
           "ModelInfo", "list_models", "load_model", "load_uploaded", "accuracy", "train", "validation_set",
           "samples_for", "SOURCES", "input_image", "PATCH", "PATCH_COLOURS", "add_patch", "patch_mask",
           "load_cleverhans", "swapped", "patch_share",
           "EMBED_BATCH", "EMBED_MAX_IMAGES", "last_linear", "penultimate_features", "Projection", "pca_2d",
           "Embedding", "embedding", "project", "TSNE_MAX_POINTS", "TSNE_MAX_PERPLEXITY", "TSNE_ITER_RANGE",
           "check_perplexity", "tsne_2d", "TsneStep", "TsneResult", "TsneJob", "RunCheckpoint", "run_checkpoint",
           "first_and_last", "REGULARISERS", "FeatureVis", "forward_flops", "check_cost",
           "visualise_channel", "channel_means", "FeatureVisJob", "FeatureVisStep", "FeatureVisDone",
           "estimate_seconds", "runs_as_job", "INLINE_MAX_S"]
