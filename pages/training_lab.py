"""Training Lab: watch a small CNN learn, live — data, recipe, curves, confusion, where the time goes."""
import cnnviz.warm  # noqa: F401 - first: heavy libraries imported once, one session at a time
import streamlit as st

from cnnviz import ConfigError
from cnnviz.io.data import samples_per_class
from cnnviz.device import pick_device
from cnnviz.figures import training as figs
from cnnviz.jobs import get_runner
from cnnviz.training.recipe import EXPLAIN, SPEED_RUN, SWITCHES, TrainConfig, from_switches
from cnnviz.ui import PageState, columns, jobs as jobs_ui, show_chart, show_error
from cnnviz.ui import one_step, run_history, training_lab as panels
from cnnviz.ui.uploads import resume_file, zip_dataset
from cnnviz.ui.live_class import record_run as class_run
from cnnviz.ui import confusion_drill, learning_live, train_built  # H4: built network, live first layer, errors
from cnnviz.io.text import md_text
from cnnviz.limits import CHECKPOINT_UPLOAD_MB, ZIP_UPLOAD_MB

S = PageState("train", {**panels.SETTINGS, **one_step.SETTINGS, **run_history.SETTINGS})
try:
    runner = get_runner((TrainConfig,))  # the Ray runner when CNNVIZ_RAY_ADDRESS is set, else background threads
except ConfigError as err:
    show_error(err)
    st.stop()
ss, cuda = st.session_state, pick_device().type == "cuda"
owner = jobs_ui.owner_token()  # this browser session's, never in the URL: the runner checks it on Stop/Resume/download
jobs_ui.linked_jobs(runner, owner)  # a train_job link reconnects its owner only; anything else is a notice


def speed_run():
    ss.update({S.key(k): v for k, v in dict(model="SmallResNet", opt="sgd", lr=SPEED_RUN["lr"], sched="onecycle",
                                            ls=True, ema=True, flip=True, crop=True,
                                            wd=SPEED_RUN["weight_decay"]).items()})


st.title("Training Lab")
st.caption(f"Train a small CNN and watch it learn, on {'the GPU' if cuda else 'the CPU'}. The data stays in "
           "memory as tensors; every stage of the training loop is timed.")
S.show_notices()
job_notice = st.container()  # the link's notice, drawn after Start/Resume (a new job clears it)
train_tab, grad_tab, step_tab, cmp_tab = S.tabs(["Train a model", "Vanishing gradients", "One step",
                                                 run_history.TAB])  # lazy: see below
S.sync_url()
left, right = columns([2, 3], [1, 1], train_tab, gap="medium")  # the controls need room for whole labels
with left:
    data = S.widget("data", horizontal=True, format_func=lambda d: panels.DATA_LABELS.get(d, d))
    try:
        ds = panels.offline(data) if data != "own ZIP" else None
        if data == "own ZIP" and (up := st.file_uploader("ZIP with one folder per class", type="zip", key="train_zip",
                                                         max_upload_size=ZIP_UPLOAD_MB,
                                                         help="e.g. cats/1.jpg, dogs/1.jpg; ≤ 20 MiB; PNG, JPEG, "
                                                         "BMP, GIF or WebP.")):
            ds = zip_dataset(up.getvalue())  # headers checked, decoded off this thread, bounded cache
    except ConfigError as err:
        show_error(err)
    b = st.columns([1, 1, 1.25])  # the buttons stay at the top, where a class sees them; "Resume" is the longest
    train_built.banner(ds, data)  # when the Architecture Lab handed its network over: which, and whether it fits
    c = st.columns(2)
    model, epochs = S.widget("model", c[0]), S.widget("epochs", c[1])
    opt = S.widget("opt", c[0], format_func={"adamw": "AdamW", "sgd": "SGD + momentum"}.get)
    lr, sched = S.widget("lr", c[1], format="%.4f"), S.widget("sched", c[0])
    st.button("Speed-run preset", on_click=speed_run, icon=":material/bolt:", help="The CIFAR-10 speed-record "
              "recipe: small ResNet, SGD, one-cycle, label smoothing, EMA, flips.", width="stretch")
    t = [st.container()] * 2  # one toggle per row: whole labels
    sw = {name: S.widget(name, t[i % 2], disabled=name == "amp" and not cuda) for i, (name, _, _) in enumerate(SWITCHES)}
    wd, amp_kind = panels.recipe_extras(S, cuda and sw["amp"])  # λ, FP16/bf16
    with st.expander("What each switch does"):
        st.markdown("\n".join(f"- **{k.replace('_', ' ')}**: {v}" for k, v in EXPLAIN.items()))
    if ss.get("train_stop") and ss["train_jobs"]:  # a click read before its button: drawn stopped in this run
        jobs_ui.stop_training(runner, ss["train_jobs"], owner)
    active = bool(ss["train_jobs"]) and jobs_ui.training_alive(runner, ss["train_jobs"][-1])
    jobs = ss["train_jobs"]  # after training_alive: it forgets a job that is gone (a restart, an old link)
    ckpt_up = st.file_uploader("Checkpoint to resume from (optional)", type=["pt"], key="train_ckpt_up",
                               max_upload_size=CHECKPOINT_UPLOAD_MB,
                               help="A .pt file downloaded here earlier; Resume continues it.")
    try:  # a refused file is named at once and never offered back for download or exploring
        ckpt_up = ckpt_up and resume_file(ckpt_up.getvalue()) and ckpt_up
    except ConfigError as err:
        show_error(err)
        ckpt_up = None
    last_ckpt = ckpt_up.getvalue() if ckpt_up else jobs_ui.last_checkpoint(runner, jobs, owner)
    start, resume = (not active and ds is not None and ss.get(k) for k in ("train_start", "train_resume"))
    try:  # a click read before its button is drawn: the buttons below show the new job at once (no second run)
        if start or (resume and last_ckpt):
            cfg = from_switches(ds.size, sw, cuda, dataset=data, model=model, epochs=int(epochs), lr=lr,
                                optimizer=opt, schedule=sched, data=ds, resume=last_ckpt if resume else None,
                                weight_decay=wd, amp_kind=amp_kind)
            cfg = train_built.with_stack(cfg, ds, data)  # the Architecture Lab's network instead of the preset
            jobs_ui.started(runner.submit(cfg, owner=owner), bool(resume and not ckpt_up), data, ds, int(epochs))
            active, jobs = True, ss["train_jobs"]
    except ConfigError as err:
        show_error(err)
    with job_notice:
        jobs_ui.show_job_notice()
    b[0].button("Start", key="train_start", type="primary", icon=":material/play_arrow:", disabled=active or ds is None,
                help="Train from scratch with these settings.", width="stretch")
    b[1].button("Stop", key="train_stop", icon=":material/stop:", disabled=not active, help="Stop within a second.",
                width="stretch")
    b[2].button("Resume", key="train_resume", icon=":material/replay:", disabled=active or not last_ckpt or ds is None,
                help="Continue from the last checkpoint (or the uploaded one) up to the epochs set.", width="stretch")
    if last_ckpt and not active:
        st.download_button("Download checkpoint (.pt)", last_ckpt, "cnnviz_checkpoint.pt", icon=":material/download:",
                           help="Model spec (JSON) + weights; other pages and Resume can load it.")
        if st.button("Explore this model", icon=":material/hub:", help="Every layer and neuron of this checkpoint "
                     "in the Network Explorer."):
            ss["explorer_model_bytes"], ss["net_model"] = last_ckpt, "session"
            st.switch_page("pages/network_explorer.py")


results = right.container()  # the live panel first: on a projector the curve is in sight, not under the switches
with right:
    if ds is not None:
        with st.expander("The data: a few training images per class", expanded=not ss["train_jobs"]):
            st.caption(f"{len(ds.y_train):,} training and {len(ds.y_val):,} validation images, "
                       f"{ds.in_channels}×{ds.size}×{ds.size}, classes: {', '.join(map(md_text, ds.classes))}")
            show_chart(figs.sample_grid(*[t.numpy() for t in samples_per_class(ds, 8)], ds.classes, 8),
                       S.key("samples_fig"))
    else:
        st.info("Upload a ZIP with one folder per class (at least 4 images each) to train on your own images.",
                icon=":material/upload_file:")
    panels.formulas_panel(opt, lr, wd, cuda, sw, amp_kind)  # L and the step with the current η, λ
if (ds is not None or ss["train_jobs"]) and train_tab.open:
    with results:
        jobs_ui.training_panel(runner, ds, epochs, active, data)  # drawn with the run's own data set and epochs
        class_run(runner, owner)  # in a live class: a finished run goes to the teacher's dashboard
if cmp_tab.open:
    with cmp_tab:
        run_history.panel(S, runner, owner, active, ds, data)  # every run of this browser; one-change A/B
if ss["train_jobs"] and train_tab.open:  # full width under the results: the first layer live, then the errors
    with train_tab:
        learning_live.panel(runner, active)
        confusion_drill.panel(runner, owner, active)
if step_tab.open:  # only when open: its widgets and figures cost nothing on the other tabs
    with step_tab:
        one_step.panel(S)
with grad_tab:
    st.caption("20 sigmoid convolutions in a row barely pass a gradient back to the first layers (each sigmoid "
               "multiplies it by at most ¼); BatchNorm and shortcut connections carry it through.")
    depth = S.widget("depth")
    if not st.toggle("Train both on digits for 30 steps", key="train_grad_on", help="Takes a few seconds."):
        st.stop()
    r = panels.gradient_comparison(depth)
    c = st.columns(2)
    show_chart(figs.gradient_norm_figure({f"plain sigmoid ×{depth}": r["plain"]["grad_norms"],
                                          f"BatchNorm + residual ×{depth}": r["resnet"]["grad_norms"]}),
               S.key("gradnorm_fig"), c[0])
    show_chart(figs.loss_pair_figure({"plain sigmoid": r["plain"]["losses"],
                                      "BatchNorm + residual": r["resnet"]["losses"]}), S.key("losspair_fig"), c[1])
