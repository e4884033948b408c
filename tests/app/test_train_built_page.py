"""Train what you build, in AppTest: the builder refuses a stack that does not fit the data with the reason, fits it in
one click and hands it over; the Training Lab trains it (1 epoch); its errors open cell by cell with top-3 and maps;
the checkpoint opens in the Network Explorer on the validation image picked."""
from functools import partial

from tests.support import apptest
from tests.support.rendered import shown
from cnnviz.architecture import codegen as cg
from cnnviz.io.data import load_dataset
from cnnviz.jobs import get_runner
from cnnviz.training.built_model import BUILT, fit_to, parse_stack, stack_text

open_tab = partial(apptest.open_tab, prefix="arch")


def button(at, label):
    return next(b for b in at.button if b.label == label)


def test_the_builder_refuses_a_stack_that_does_not_fit_fits_it_and_hands_it_over():
    at = apptest.open_page("architecture_lab", {"tab": "Builder + export"})
    assert any("the stack takes 3×32×32 inputs; the digits images are 1×8×8" in shown(w.value) for w in at.warning)
    assert button(at, "Train this network").disabled
    button(at, "Fit it to the digits").click().run()
    assert not at.exception, at.exception
    layers, shape = at.session_state["arch_stack"]
    assert shape == (1, 8, 8) and [x["type"] for x in layers] == [x["type"] for x in cg.EXAMPLE]
    assert any(c.value.startswith("It fits the digits images (1×8×8, 10 classes)") for c in at.caption)
    assert at.session_state["arch_history"][-1] == (cg.EXAMPLE, cg.EXAMPLE_SHAPE)  # undoable
    button(at, "Train this network").click().run()
    handed = at.session_state["train_built"]
    assert handed["data"] == "digits" and parse_stack(handed["stack"]) == (layers, (1, 8, 8))


def test_the_training_lab_trains_the_built_network_and_opens_its_errors():
    digits = load_dataset("digits")
    layers, shape, _ = fit_to(cg.EXAMPLE, cg.EXAMPLE_SHAPE, digits)
    at = apptest.open_page("training_lab")
    at.session_state["train_built"] = dict(stack=stack_text(layers, shape), data="digits")
    at.number_input(key="train_epochs").set_value(1).run()
    assert any("**Training your network**" in m.value for m in at.markdown)
    button(at, "Start").click().run()
    assert not at.exception, at.exception
    job = at.session_state["train_jobs"][-1]
    runner = get_runner()
    assert runner._jobs[job].config.model == BUILT and runner.join(job, timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert any("Finished after epoch 1" in s.value for s in at.success)
    assert [s.value for s in at.subheader if s.value == "Open the errors"]
    cells = at.selectbox(key="train_drill_pick").options
    assert cells and any(c.value.startswith("#") for c in at.caption)  # the default cell's images
    # a cell picked from the list (the keyboard's way): exactly its validation images, each with its top 3
    events = runner.poll(job)
    confusion = [e for e in events if type(e).__name__ == "Evaluation"][-1].confusion
    t, p = next((i, j) for i in range(10) for j in range(10) if i != j and confusion[i][j])
    at.selectbox(key="train_drill_pick").set_value((t, p)).run()
    assert not at.exception, at.exception
    tops = [c.value for c in at.caption if c.value.startswith("#")]
    assert len(tops) == min(confusion[t][p], 12) and all(c.count("%") == 3 for c in tops)
    assert all(c.split(" ")[1] == str(p) for c in tops)  # the predicted class comes first
    at.radio(key="drill_errmap").set_value("integrated_gradients").run()
    assert not at.exception, at.exception
    first = int(tops[0].split(":")[0][1:])
    button(at, "Open in Explorer").click().run()
    ckpt = at.session_state["explorer_model_bytes"]
    assert at.session_state["net_idx"] == first
    net = apptest.AppTest.from_file(str(apptest.ROOT / "pages/network_explorer.py"), default_timeout=120)
    net.session_state["explorer_model_bytes"] = ckpt
    for k, v in dict(model="session", src="validation", idx=str(first)).items():
        net.query_params[k] = v
    net.run()
    assert not net.exception, net.exception
    assert apptest.metric(net, "Prediction") == str(p)  # the model and image of that cell
