"""The Lessons path: the app's pages in teaching order, each step a page, the query parameters that set its
example, what to try and notice, its minutes in class and the element that shows its point. Titles carry no
number: the page numbers the steps in this order, so a new step is one insertion (its place in the list), never a
renumbering. Data only; pages/lessons.py lays it out and cnnviz/ui/lesson_banner.py shows a step above its page.
Every query key must be one the page reads (tests/app/test_lessons_page.py opens each link)."""
from __future__ import annotations

from typing import NamedTuple


class Step(NamedTuple):
    """One step of the path. ``text``: the Lessons page's paragraph; ``try_`` and ``notice``: its one-line
    summary in the banner above the page (lower case, no full stop: the banner writes "Try: … Notice: …");
    ``key``: a CSS selector of the element that shows the step's point (its first visible match), which must
    start within the first 720 px of a 1280×720 projector with the banner (tests/e2e/test_lesson_keys.py)."""
    title: str
    page: str
    icon: str
    params: dict | None
    text: str
    minutes: int
    key: str
    try_: str
    notice: str


LESSONS = [
    Step("Output size of one convolution", "pages/conv_arithmetic.py", ":material/straighten:",
     dict(size="9", k="3", s="2", p="1"),
     "A 9×9 input, a 3×3 kernel, stride 2, padding 1. Change the stride from 2 to 1 and watch the output grow "
     "from 5×5 to 9×9. Then raise the dilation: the receptive field grows but the parameter count does not.",
     4, '[data-testid=stMetric]',
     'change the stride from 2 to 1', 'the output grows from 5×5 to 9×9'),
    Step("Parameters and groups", "pages/conv_arithmetic.py", ":material/straighten:",
     dict(cin="8", cout="8", groups="1"),
     "Eight channels in, eight out. Set Groups to 2, 4, then 8 (depthwise): the weights drop by the same "
     "factor while the output shape stays the same. This is the trick behind MobileNet.",
     3, '[data-testid=stMetric]',
     'set Groups to 2, 4, then 8', 'the weights fall by that factor; the output shape stays'),
    Step("Padding like TensorFlow, and MACs", "pages/conv_arithmetic.py", ":material/straighten:",
     dict(tfl="8", tfk="3", tfs="2", macs="1", tab="TF 'same' with stride"),
     "Open the tab TF 'same' with stride: PyTorch refuses padding='same' with stride 2, TensorFlow pads 0 cells "
     "before and 1 after so the output is ⌈8/2⌉ = 4. Change the length to 7 and see the padding become (1, 1). "
     "On the Convolution tab the switch counts MACs: half the FLOPs, one multiply-add each.",
     4, '[data-testid=stMetric]',
     'change the length from 8 to 7', 'TF pads 0 before and 1 after: the output is ⌈L / s⌉'),
    Step("Holes in a dilated receptive field", "pages/conv_arithmetic.py", ":material/straighten:",
     dict(stack="3-1-2;3-1-2;3-1-2", hyb="1,2,3", tab="Receptive field of a stack"),
     "Open the tab Receptive field of a stack: three 3×3 convolutions with dilation 2 see 13×13 input cells, but "
     "120 of those 169 are never read (✕), a checkerboard (gridding). The map beside it uses rates 1, 2, 3: the "
     "same 13×13, no holes. Change a dilation in the table and watch the holes open and close.",
     4, '.st-key-arith_grid_fig',
     'change one dilation in the table', 'dilation 2 three times leaves 120 of 169 cells unread'),
    Step("The sliding window, step by step", "pages/conv_animation.py", ":material/animation:",
     dict(kernel="sobel x", source="digit"),
     "A Sobel kernel slides over a handwritten digit. Step through the positions: each output cell is the sum "
     "of the kernel times the window under it. Notice which strokes light up: the vertical edges. Then open "
     "the 1-D and 3-D tabs: the same window on a sequence, and on a volume slice by slice.",
     5, '.st-key-anim_step_fig',
     'press Step ▶ a few times, then Play (or Space)', 'the vertical strokes light up: red and blue edges'),
    Step("Padding modes at the border", "pages/conv_animation.py", ":material/animation:",
     dict(source="random", seed="0", h="12", w="12", emk="blur", emp="1", tab="Padding modes"),
     "Open the tab Padding modes: one 12×12 image blurred four times. With zeros the border ring comes out 1.74 "
     "darker than the interior (a dark frame); reflect, replicate and circular continue the image and stay within "
     "0.2 of it. The interior is the same in all four: only the cells whose window reads padding change.",
     3, '.st-key-anim_modes_fig',
     'compare the four padding modes', 'zeros darken the border ring; the others do not'),
    Step("Whole architectures", "pages/architecture_lab.py", ":material/account_tree:",
     dict(preset="LeNet-5"),
     "LeNet-5, the classic digit reader. Read the table layer by layer: where do the parameters live, where "
     "does the compute go? Switch to Small ResNet and compare the receptive field. In Builder + export, "
     "change a layer and share the page's link: the class opens your exact network.",
     4, '.st-key-arch_preset_share_fig',
     'switch LeNet-5 to Small ResNet', 'where the parameters live, where the compute goes'),
    Step("Modern blocks, drawn", "pages/architecture_lab.py", ":material/account_tree:",
     dict(shc="12", shg="3", pp="16", macs="1", tab="Blocks drawn"),
     "Open the tab Blocks drawn. Channel shuffle: 12 channels in 3 groups; after it every run of 3 holds one "
     "channel of each group. 3-D vs (2+1)-D on a 16×112×112 clip: both have 110,592 conv weights and the same "
     "MACs, yet 7.75× the activation memory. Dynamic conv: two images, two mixes of the K kernels. ViT: patch "
     "16 on 224 gives 196 tokens; set 8 and get 784, with the same MACs. The switch counts MACs = FLOPs / 2.",
     5, '.st-key-arch_shuffle_fig',
     'change the groups of the channel shuffle', 'after it every run of 3 holds one channel of each group'),
    Step("Searching for an architecture", "pages/architecture_lab.py", ":material/travel_explore:",
     dict(nas="evolution", nbud="0.2", ntr="8", tab="Search (NAS)"),
     "Open the tab Search (NAS) and press Start: small networks (stages, width, kernel, block type) train for a "
     "moment each on 600 digits and appear as points, accuracy against FLOPs; those over the 0.2 MFLOPs budget "
     "are rejected untrained (grey ✕). The green staircase is the Pareto front: nothing beats it with fewer FLOPs. "
     "The orange line is EfficientNet's compound scaling of one baseline, a single path through the space; the "
     "search looks around it. Then set Strategy to random and compare.",
     6, '.st-key-arch_search_fig, [data-testid=stButton]',
     'press Start, then set Strategy to random', 'the Pareto front: nothing beats it with fewer FLOPs'),
    Step("Training a small network", "pages/training_lab.py", ":material/model_training:",
     dict(data="digits", model="TinyVGG", epochs="8", ab_change="crop"),
     "Train TinyVGG on 8×8 digits for eight epochs and watch the loss fall. When it has finished, open Compare "
     "runs and press Train again with this change (random crop off): the copy trains with everything else equal, "
     "the seed included, and both validation curves share one chart whose legend names the one change. Compare "
     "the validation curves, not the training ones. Open The objective and the update: change the weight decay λ "
     "and the optimizer and see where λ enters the formulas.",
     6, '[data-testid=stButton]',
     'Start, then Compare runs: Train again with one change',
     'the legend names the one change; compare val. curves'),
    Step("Inside the model: feature maps", "pages/feature_maps.py", ":material/layers:", None,
     "See what each layer of a trained model computes for one image. Early layers respond to edges and "
     "strokes; deeper layers are smaller and more abstract. Shift the image a little and see what changes.",
     4, '.js-plotly-plot',
     'pick another image or layer', 'early layers see strokes; deeper maps are smaller and abstract'),
    Step("Inside the model: saliency", "pages/saliency.py", ":material/visibility:", None,
     "Which pixels made the model choose its answer? Compare gradients, integrated gradients and Grad-CAM "
     "on the same image, and run the sanity check: a map that survives random weights explains nothing.",
     5, '.st-key-sal_grid_fig',
     'compare the methods on one image', 'a map that survives random weights explains nothing'),
    Step("Smaller models", "pages/compression.py", ":material/compress:", dict(bits="8"),
     "Quantize the trained model to 8 bits, then lower the bits one by one. Accuracy holds for a long "
     "time, then collapses: find that point. Try pruning too and compare the size against the accuracy.",
     4, '.st-key-compress_quant_fig, [data-testid=stMetric]',
     'lower the bits one by one', 'accuracy holds for long, then collapses'),
    Step("Distillation with few labels", "pages/compression.py", ":material/compress:",
     dict(lpc="5", unl="1", tab="Knowledge distillation"),
     "Open the tab Knowledge distillation and press Start: two identical students get only 5 labelled digits a "
     "class; one also learns from the teacher's soft labels, on the unlabelled digits too. It ends about 17 "
     "points higher. Set Labels / class to 'all' and train again: with enough labels the teacher adds little.",
     5, '[data-testid=stButton]',
     'press Start; then set Labels / class to all', 'the student taught by the teacher ends about 17 points higher'),
    Step("Measuring results", "pages/metrics_losses.py", ":material/functions:", None,
     "Move box A with the sliders beside the chart (left edge, top edge, width, height) and read IoU; on Dice "
     "vs IoU slide two masks. On Cross-entropy vs focal loss move p and see how each loss punishes a confident "
     "mistake. On Precision–recall, AP, mAP raise the IoU threshold slider: loose boxes stop counting, and COCO's "
     "mAP@[.5:.95] averages ten thresholds. These are the numbers papers report.",
     5, '.st-key-metrics_boxes_fig',
     'move box A with the sliders', 'IoU: the overlap over the union of the two boxes'),
    Step("Focal loss and class imbalance", "pages/metrics_losses.py", ":material/functions:",
     dict(gamma="0", alpha="0.5", tab="Cross-entropy vs focal loss"),
     "Open the tab Cross-entropy vs focal loss. At γ = 0 (cross-entropy) the 880 easy background examples make "
     "up over half of the loss. Raise γ to 2: their share falls under 15 % and the 36 hard objects carry most "
     "of it. Then move α: above 0.5 weighs the rare class more. On the tab Top-k, step through images and k.",
     4, '.st-key-metrics_share_fig',
     'raise γ from 0 to 2', "the 880 easy examples' share of the loss falls under 15 %"),
    Step("Segmentation: the soft Dice loss", "pages/metrics_losses.py", ":material/functions:",
     dict(small="1", temp="0.5", tab="Soft Dice loss"),
     "Open the tab Soft Dice loss: a small object, 12 pixels of 1024. Shift the prediction 4 cells off it: the "
     "Dice loss jumps from 0.30 to 0.92, the BCE stays under 0.08, a mean over pixels that are nearly all "
     "background. Predicting background everywhere: BCE 0.09, Dice loss 0.97. Dice cannot ignore the rare class.",
     4, '.st-key-metrics_soft_fig',
     'shift the prediction off the object', 'Dice loss jumps to 0.92; BCE stays under 0.08'),
    Step("Check yourself", "pages/quiz.py", ":material/quiz:", dict(level="easy", seed="1"),
     "Questions on output size, parameters, FLOPs and receptive field, marked by the engine with the formula "
     "after each answer. A teacher can give the class one seed so everybody gets the same questions. The "
     "switches add questions: TF 'same' (step 3), Gridding (step 4), MACs (step 3's MACs switch) and Dice (the "
     "Dice coefficient or soft Dice loss of two small masks, as on Metrics & Losses).",
     8, '[data-testid=stTextInput], [data-testid=stNumberInput]',
     'answer, then press Check', 'the formula with your numbers after each answer'),
]

# Routes through the path: (label, the steps' numbers, 1-based). The 45-minute class keeps one or two steps per
# topic: the arithmetic, the sliding window, a whole network, training, looking inside, compression and the quiz.
ROUTES = {"full": ("Full path", tuple(range(1, len(LESSONS) + 1))),
          "45": ("45-minute class", (1, 2, 5, 7, 10, 11, 12, 13, 18))}


def route_steps(route: str) -> tuple[int, ...]:
    """The step numbers of ``route`` (a key of ROUTES; the full path for any other value)."""
    return ROUTES.get(route, ROUTES["full"])[1]


def route_minutes(route: str) -> int:
    """The minutes of ``route``: its steps' minutes added up."""
    return sum(LESSONS[n - 1].minutes for n in route_steps(route))


def neighbours(number: int, route: str = "full") -> tuple[int | None, int | None]:
    """The steps before and after step ``number`` on ``route`` (None at either end). A step off the route goes to
    the route's nearest steps on either side."""
    steps = route_steps(route)
    before = [n for n in steps if n < number]
    after = [n for n in steps if n > number]
    return (before[-1] if before else None), (after[0] if after else None)
