"""Metrics and losses: top-k accuracy and focal loss (``classification``); boxes, masks, IoU, Dice,
precision-recall, mAP and COCO mAP@[.5:.95] (``detection``; ``map_formulas``: their LaTeX with the numbers
substituted); the soft Dice loss (``segmentation``).

The Metrics & Losses page's room. May import: cnnviz.errors, numpy, torch."""
from cnnviz.metrics.classification import (topk_accuracy, focal_loss, loss_vs_probability)
from cnnviz.metrics.detection import (box_area, box_intersection, box_iou, dice, mask_iou, dice_from_iou,
    disk_mask, PRCurve, pr_curve, average_precision, mean_average_precision, precision_recall_at,
    match_detections, Detection, demo_detections, demo_scene, COCO_IOU_THRESHOLDS, map_at_iou, coco_map,
    detections_by_class)
from cnnviz.metrics.segmentation import dice_loss, SoftDiceView, soft_dice_view

__all__ = ["topk_accuracy", "focal_loss", "loss_vs_probability", "box_area", "box_intersection", "box_iou", "dice",
           "mask_iou", "dice_from_iou", "disk_mask", "PRCurve", "pr_curve", "average_precision",
           "mean_average_precision", "precision_recall_at", "match_detections", "Detection", "demo_detections",
           "demo_scene", "COCO_IOU_THRESHOLDS", "map_at_iou", "coco_map", "detections_by_class", "dice_loss",
           "SoftDiceView", "soft_dice_view"]
