"""Architecture Lab in AppTest: metrics equal PyTorch's counts; builder edits; bad input names the field."""
import json
from functools import partial

import torch.nn as nn
from streamlit.testing.v1 import AppTest

from tests.support import apptest
from cnnviz.ui import fmt_int
from tests.support.rendered import shown


open_page = partial(apptest.open_page, "architecture_lab")
metric = apptest.metric
BUILDER = {"tab": "Builder + export"}  # lazy tabs: only the open tab's elements are in the tree


open_tab = partial(apptest.open_tab, prefix="arch")


def test_presets_blocks_and_url_state():
    at = open_page({"preset": "LeNet-5"})
    assert metric(at, "Parameters") == fmt_int(61_706) == "61.7 k"
    assert metric(at, "Output shape") == "10"
    at.selectbox(key="arch_preset").set_value("ConvNeXt block").run()
    assert metric(at, "Output shape") == "32×16×16"
    assert at.query_params["preset"] == "ConvNeXt block"
    open_tab(at, "Block comparison")
    block_table = at.dataframe[0].value
    std, dws = block_table.iloc[0], block_table.iloc[1]
    assert std["Parameters"] == 3 * 3 * 32 * 64
    assert dws["Parameter ratio"] == dws["Ratio (closed form)"] == round(1 / 64 + 1 / 9, 4)
    at.number_input(key="arch_groups").set_value(5).run()
    assert not at.exception
    assert any("groups" in shown(e.value) and "divisible" in shown(e.value) for e in at.error)


def test_tables_show_readable_names_first_headers_in_words_and_numbers_with_separators():
    """The per-layer table starts with the readable name ("block 3 · shortcut conv"), the module path
    second; no table on the page has a snake_case header; counts stay numbers (they sort as numbers) and the grid
    shows them with a thousands separator ("%,d": 884,736)."""
    at = open_page({"preset": "Small ResNet"})
    layers = at.dataframe[0]
    df = layers.value
    assert list(df.columns[:2]) == ["Layer", "Module"]
    assert (df["Layer"].iloc[0], df["Module"].iloc[0]) == ("conv 1", "stem.0")
    assert df["Module"][df["Layer"] == "block 3 · shortcut conv"].tolist() == ["layer3.shortcut.0"]
    assert {"Output shape", "Parameters", "FLOPs", "Receptive field", "Activations (KiB)"} <= set(df.columns)
    formats = {k: v.get("type_config", {}).get("format") for k, v in json.loads(layers.proto.columns).items()}
    assert formats["Parameters"] == formats["FLOPs"] == "%,d" and formats["Activations (KiB)"] == "%,.1f"
    assert df["FLOPs"].dtype.kind == "i" and df["FLOPs"].max() > 1_000_000  # a large number, shown as 1,234,567
    for label in ("Presets", "Block comparison", "Blocks drawn", "Builder + export", "Principles in numbers",
                  "Search (NAS)"):
        open_tab(at, label)  # every tab in turn: presets, block comparison, builder stack + report, compound scaling
        for table in at.dataframe:
            assert not [c for c in table.value.columns if "_" in str(c)], (label, list(table.value.columns))
        if label == "Block comparison":
            blocks = json.loads(at.dataframe[0].proto.columns)
            assert blocks["Parameters"]["type_config"]["format"] == "%,d"
    open_tab(at, "Presets")
    at.toggle(key="arch_macs").set_value(True).run()  # MACs: the compute column is renamed and halved
    macs = at.dataframe[0].value
    assert "FLOPs" not in macs and (macs["MACs"] * 2 - df["FLOPs"]).abs().max() <= 1



def test_the_outside_the_rows_caption_follows_the_macs_switch():
    """The ViT preset's attention matmuls are functional ops, counted outside the layer rows."""
    import re
    at = open_page({"preset": "ViT patch embedding + attention pooling"})
    outside = lambda: next(c.value for c in at.caption if c.value.startswith("Outside the rows"))  # noqa: E731
    flops = re.match(r"Outside the rows: ([\d,]+) FLOPs", outside())
    assert flops, outside()
    at.toggle(key="arch_macs").set_value(True).run()
    macs = re.match(r"Outside the rows: ([\d,]+) MACs", outside())
    assert macs and int(macs[1].replace(",", "")) * 2 == int(flops[1].replace(",", "")) > 0

def test_builder_actions_keep_a_valid_network_or_are_refused_and_undo_steps_back():
    """The default Apply used to fail ("layer 10 in_shape — must be (channels, *spatial), got ()") and an
    insert before the residual broke it. Parameter counts by hand from the example (3×32×32): conv 3→8 (224),
    BN (16), x + [conv 8→8 (584), BN (16), ReLU], pool, conv 8→16 (1,168), ReLU, pool, Linear 1,024→10 (10,250)."""
    at = open_page(BUILDER)
    params = lambda: metric(at, "Parameters")  # noqa: E731 - the builder's report
    apply = lambda: next(b for b in at.button if b.label == "Apply").click().run()  # noqa: E731
    undo = lambda: at.button(key="arch_undo").click().run()  # noqa: E731
    ok = lambda: not at.exception and not at.error  # noqa: E731
    assert params() == fmt_int(12_258) and at.button(key="arch_undo").disabled
    assert at.number_input(key="arch_at").value == 9  # before the linear head
    apply()  # the defaults: add a 16-filter 3×3 conv there
    assert ok(), [e.value for e in at.error]
    assert params() == fmt_int(12_258 + 16 * 16 * 9 + 16) == "14.6 k"
    undo()
    assert ok() and params() == fmt_int(12_258) and at.button(key="arch_undo").disabled
    at.number_input(key="arch_at").set_value(4)
    apply()  # a 8→16 conv before the residual: its conv becomes 16→16 (2,320), its BN 32
    assert ok(), [e.value for e in at.error]
    assert params() == fmt_int(224 + 16 + 1_168 + 2_320 + 32 + 2_320 + 10_250) == "16.3 k"
    undo()
    at.number_input(key="arch_at").set_value(2)
    at.selectbox(key="arch_op").set_value("remove")
    apply()  # the batch norm (2·8 parameters) goes
    assert ok() and params() == fmt_int(12_258 - 16)
    at.number_input(key="arch_at").set_value(1)
    apply()  # now the first conv goes: the residual's conv becomes 3→3 (30) with its BN (6), then 3→16 (448)
    assert ok() and params() == fmt_int(84 + 6 + 448 + 10_250) == "10.8 k"
    at.number_input(key="arch_at").set_value(8)
    at.selectbox(key="arch_op").set_value("add")
    apply()  # a conv after the linear head: refused with the reason, the network kept
    assert any("needs a feature map" in shown(e.value) and "flat vector of 10 values" in shown(e.value)
               for e in at.error)
    assert params() == "10.8 k"
    undo()
    undo()
    assert ok() and params() == fmt_int(12_258)


def test_builder_export_runs_and_import_errors_name_the_field():
    at = open_page(BUILDER)
    params = lambda: metric(at, "Parameters")  # noqa: E731
    next(b for b in at.button if b.label == "Apply").click().run()  # the default: one more conv before the head
    assert params() == "14.6 k"
    code = at.main.code[0].value
    namespace = {}
    exec(code, namespace)
    net = namespace["Net"]()
    assert fmt_int(sum(p.numel() for p in net.parameters())) == params()
    assert isinstance(net, nn.Module)
    at.text_area(key="arch_json").set_value('{"in_shape": [3, 8, 8], "layers": [{"type": "conv", "dims": 2, '
                                            '"in_channels": 4, "out_channels": 2, "kernel_size": 3}]}')
    next(b for b in at.button if b.label == "Import").click().run()
    assert any("layer 1 in_channels" in shown(e.value) for e in at.error)


def test_importing_a_stack_too_large_to_run_shows_the_limit():
    import json

    from cnnviz.architecture import codegen as cg
    at = open_page(BUILDER)
    layers = [cg.conv(3, 64, 3, padding=1)] + [cg.conv(64, 64, 3, padding=1) for _ in range(39)]
    at.text_area(key="arch_json").set_value(json.dumps({"in_shape": [3, 1024, 1024], "layers": layers}))
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    assert any("stack" in shown(e.value) and "above the limit of 16,000,000" in shown(e.value) for e in at.error)


def test_builder_replace_and_input_shape_equal_torch_and_live_in_the_link():
    from cnnviz.architecture import builder as bld
    from cnnviz.architecture import codegen as cg
    from cnnviz.architecture import summarize
    at = open_page(BUILDER)
    at.selectbox(key="arch_new").set_value("conv").run()
    at.number_input(key="arch_width").set_value(8)  # the residual after it keeps 8 channels
    at.number_input(key="arch_kernel_conv").set_value(5)
    at.number_input(key="arch_stride_conv").set_value(2)
    at.number_input(key="arch_at").set_value(1)
    at.selectbox(key="arch_op").set_value("replace")
    next(b for b in at.button if b.label == "Apply").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    next(n for n in at.number_input if n.label == "Input channels").set_value(1).run()
    next(n for n in at.number_input if n.label == "Input size, each axis").set_value(28).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    # what the page built: the example with a 1 -> 8, k5 s2 conv first, on a 1×28×28 input, re-chained
    layers = cg.rechain([cg.conv(1, 8, 5, stride=2, padding=2), *cg.EXAMPLE[1:]], (1, 28, 28))
    model = cg.build_stack(layers, (1, 28, 28))
    s = summarize(model, (1, 28, 28))
    assert sum(p.numel() for p in model.parameters()) == s.total_params
    assert metric(at, "Parameters") == fmt_int(s.total_params)
    out = model(__import__("torch").zeros(1, 1, 28, 28))
    assert metric(at, "Output shape") == "×".join(map(str, out.shape[1:]))
    token = at.query_params["stack"]
    token = token[0] if isinstance(token, list) else token
    assert bld.decode_stack(token) == (layers, (1, 28, 28))
    assert at.query_params["tab"] in (BUILDER["tab"], [BUILDER["tab"]])  # the open tab is in the link too
    shared = open_page({"stack": token, **BUILDER})  # the link opens the same stack in a new session
    assert metric(shared, "Parameters") == metric(at, "Parameters")
    assert shared.main.code[0].value == at.main.code[0].value


def test_builder_refuses_an_input_too_small_for_its_pools():
    at = open_page(BUILDER)
    next(n for n in at.number_input if n.label == "Input size, each axis").set_value(2).run()
    assert not at.exception
    assert any("pool" in shown(e.value).lower() or "kernel" in shown(e.value).lower() for e in at.error), \
        [e.value for e in at.error]
    assert metric(at, "Parameters") == fmt_int(12_258)  # the previous network kept
    assert "stack" not in at.query_params


def test_a_broken_stack_link_is_ignored_with_a_notice():
    at = open_page({"stack": "eNrLSM3JyQcABiwCFQ", **BUILDER})  # deflated "hello": not a stack
    assert any("Ignored the link's stack" in shown(i.value) for i in at.info)  # escaped markdown, read as shown
    assert metric(at, "Parameters") == fmt_int(12_258)  # the example instead
