"""The Lessons path: the app's pages in teaching order, each step a page, the query parameters that set its
example, and what to try and notice. Titles carry no number: the page numbers the steps in this order, so a
new step is one insertion (its place in the list), never a renumbering. Data only; pages/lessons.py lays it out.
Every query key must be one the page reads (tests/app/test_lessons_page.py opens each link)."""

# (title, page, icon, query params the page reads, what to try and what to notice)
LESSONS = [
    ("Output size of one convolution", "pages/conv_arithmetic.py", ":material/straighten:",
     dict(size="9", k="3", s="2", p="1"),
     "A 9×9 input, a 3×3 kernel, stride 2, padding 1. Change the stride from 2 to 1 and watch the output grow "
     "from 5×5 to 9×9. Then raise the dilation: the receptive field grows but the parameter count does not."),
    ("Parameters and groups", "pages/conv_arithmetic.py", ":material/straighten:",
     dict(cin="8", cout="8", groups="1"),
     "Eight channels in, eight out. Set Groups to 2, 4, then 8 (depthwise): the weights drop by the same "
     "factor while the output shape stays the same. This is the trick behind MobileNet."),
    ("Padding like TensorFlow, and MACs", "pages/conv_arithmetic.py", ":material/straighten:",
     dict(tfl="8", tfk="3", tfs="2", macs="1", tab="TF 'same' with stride"),
     "Open the tab TF 'same' with stride: PyTorch refuses padding='same' with stride 2, TensorFlow pads 0 cells "
     "before and 1 after so the output is ⌈8/2⌉ = 4. Change the length to 7 and see the padding become (1, 1). "
     "On the Convolution tab the switch counts MACs: half the FLOPs, one multiply-add each."),
    ("Holes in a dilated receptive field", "pages/conv_arithmetic.py", ":material/straighten:",
     dict(stack="3-1-2;3-1-2;3-1-2", hyb="1,2,3", tab="Receptive field of a stack"),
     "Open the tab Receptive field of a stack: three 3×3 convolutions with dilation 2 see 13×13 input cells, but "
     "120 of those 169 are never read (✕), a checkerboard (gridding). The map beside it uses rates 1, 2, 3: the "
     "same 13×13, no holes. Change a dilation in the table and watch the holes open and close."),
    ("The sliding window, step by step", "pages/conv_animation.py", ":material/animation:",
     dict(kernel="sobel x", source="digit"),
     "A Sobel kernel slides over a handwritten digit. Step through the positions: each output cell is the sum "
     "of the kernel times the window under it. Notice which strokes light up: the vertical edges. Then open "
     "the 1-D and 3-D tabs: the same window on a sequence, and on a volume slice by slice."),
    ("Padding modes at the border", "pages/conv_animation.py", ":material/animation:",
     dict(source="random", seed="0", h="12", w="12", emk="blur", emp="1", tab="Padding modes"),
     "Open the tab Padding modes: one 12×12 image blurred four times. With zeros the border ring comes out 1.74 "
     "darker than the interior (a dark frame); reflect, replicate and circular continue the image and stay within "
     "0.2 of it. The interior is the same in all four: only the cells whose window reads padding change."),
    ("Whole architectures", "pages/architecture_lab.py", ":material/account_tree:",
     dict(preset="LeNet-5"),
     "LeNet-5, the classic digit reader. Read the table layer by layer: where do the parameters live, where "
     "does the compute go? Switch to Small ResNet and compare the receptive field. In Builder + export, "
     "change a layer and share the page's link: the class opens your exact network."),
    ("Modern blocks, drawn", "pages/architecture_lab.py", ":material/account_tree:",
     dict(shc="12", shg="3", pp="16", macs="1", tab="Blocks drawn"),
     "Open the tab Blocks drawn. Channel shuffle: 12 channels in 3 groups; after it every run of 3 holds one "
     "channel of each group. 3-D vs (2+1)-D on a 16×112×112 clip: both have 110,592 conv weights and the same "
     "MACs, yet 7.75× the activation memory. Dynamic conv: two images, two mixes of the K kernels. ViT: patch "
     "16 on 224 gives 196 tokens; set 8 and get 784, with the same MACs. The switch counts MACs = FLOPs / 2."),
    ("Searching for an architecture", "pages/architecture_lab.py", ":material/travel_explore:",
     dict(nas="evolution", nbud="0.2", ntr="8", tab="Search (NAS)"),
     "Open the tab Search (NAS) and press Start: small networks (stages, width, kernel, block type) train for a "
     "moment each on 600 digits and appear as points, accuracy against FLOPs; those over the 0.2 MFLOPs budget "
     "are rejected untrained (grey ✕). The green staircase is the Pareto front: nothing beats it with fewer FLOPs. "
     "The orange line is EfficientNet's compound scaling of one baseline, a single path through the space; the "
     "search looks around it. Then set Strategy to random and compare."),
    ("Training a small network", "pages/training_lab.py", ":material/model_training:",
     dict(data="digits", model="TinyVGG", epochs="8"),
     "Train TinyVGG on 8×8 digits for eight epochs and watch the loss fall. Then turn augmentation or label "
     "smoothing off and train again: compare the validation curves, not the training ones. Open The objective "
     "and the update: change the weight decay λ and the optimizer and see where λ enters the formulas. On a CUDA "
     "GPU, mixed precision offers FP16 with loss scaling (small gradients would underflow) or bf16 (no scaler)."),
    ("Inside the model: feature maps", "pages/feature_maps.py", ":material/layers:", None,
     "See what each layer of a trained model computes for one image. Early layers respond to edges and "
     "strokes; deeper layers are smaller and more abstract. Shift the image a little and see what changes."),
    ("Inside the model: saliency", "pages/saliency.py", ":material/visibility:", None,
     "Which pixels made the model choose its answer? Compare gradients, integrated gradients and Grad-CAM "
     "on the same image, and run the sanity check: a map that survives random weights explains nothing."),
    ("Smaller models", "pages/compression.py", ":material/compress:", dict(bits="8"),
     "Quantize the trained model to 8 bits, then lower the bits one by one. Accuracy holds for a long "
     "time, then collapses: find that point. Try pruning too and compare the size against the accuracy."),
    ("Distillation with few labels", "pages/compression.py", ":material/compress:",
     dict(lpc="5", unl="1", tab="Knowledge distillation"),
     "Open the tab Knowledge distillation and press Start: two identical students get only 5 labelled digits a "
     "class; one also learns from the teacher's soft labels, on the unlabelled digits too. It ends about 17 "
     "points higher. Set Labels / class to 'all' and train again: with enough labels the teacher adds little."),
    ("Measuring results", "pages/metrics_losses.py", ":material/functions:", None,
     "Move box A with the sliders beside the chart (left edge, top edge, width, height) and read IoU; on Dice "
     "vs IoU slide two masks. On Cross-entropy vs focal loss move p and see how each loss punishes a confident "
     "mistake. On Precision–recall, AP, mAP raise the IoU threshold slider: loose boxes stop counting, and COCO's "
     "mAP@[.5:.95] averages ten thresholds. These are the numbers papers report."),
    ("Focal loss and class imbalance", "pages/metrics_losses.py", ":material/functions:",
     dict(gamma="0", alpha="0.5", tab="Cross-entropy vs focal loss"),
     "Open the tab Cross-entropy vs focal loss. At γ = 0 (cross-entropy) the 880 easy background examples make "
     "up over half of the loss. Raise γ to 2: their share falls under 15 % and the 36 hard objects carry most "
     "of it. Then move α: above 0.5 weighs the rare class more. On the tab Top-k, step through images and k."),
    ("Segmentation: the soft Dice loss", "pages/metrics_losses.py", ":material/functions:",
     dict(small="1", temp="0.5", tab="Soft Dice loss"),
     "Open the tab Soft Dice loss: a small object, 12 pixels of 1024. Shift the prediction 4 cells off it: the "
     "Dice loss jumps from 0.30 to 0.92, the BCE stays under 0.08, a mean over pixels that are nearly all "
     "background. Predicting background everywhere: BCE 0.09, Dice loss 0.97. Dice cannot ignore the rare class."),
    ("Check yourself", "pages/quiz.py", ":material/quiz:", dict(level="easy", seed="1"),
     "Questions on output size, parameters, FLOPs and receptive field, marked by the engine with the formula "
     "after each answer. A teacher can give the class one seed so everybody gets the same questions. The "
     "switches add questions: TF 'same' (step 3), Gridding (step 4), MACs (step 3's MACs switch) and Dice (the "
     "Dice coefficient or soft Dice loss of two small masks, as on Metrics & Losses)."),
]
