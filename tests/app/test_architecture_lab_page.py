"""Architecture Lab in AppTest: metrics equal PyTorch's counts; builder edits; bad input names the field."""
from functools import partial

import torch.nn as nn
from streamlit.testing.v1 import AppTest

import apptest
from cnnviz.ui import fmt_int
from rendered import shown


open_page = partial(apptest.open_page, "architecture_lab")
metric = apptest.metric


def test_presets_blocks_and_url_state():
    at = open_page({"preset": "LeNet-5"})
    assert metric(at, "Parameters") == fmt_int(61_706) == "61.7 k"
    assert metric(at, "Output shape") == "10"
    at.selectbox(key="arch_preset").set_value("ConvNeXt block").run()
    assert metric(at, "Output shape") == "32×16×16"
    assert at.query_params["preset"] == "ConvNeXt block"
    block_table = at.dataframe[1].value
    std, dws = block_table.iloc[0], block_table.iloc[1]
    assert std.params == 3 * 3 * 32 * 64 and dws.ratio_measured == dws.ratio_closed_form == round(1 / 64 + 1 / 9, 4)
    at.number_input(key="arch_groups").set_value(5).run()
    assert not at.exception
    assert any("groups" in shown(e.value) and "divisible" in shown(e.value) for e in at.error)


def test_builder_edits_and_import_errors():
    at = open_page()
    params = lambda: metric(at, "Parameters", 1)  # noqa: E731 - the builder's report is the second one
    assert params() == fmt_int(12_258)
    at.number_input(key="arch_at").set_value(2)
    at.selectbox(key="arch_op").set_value("remove")
    at.button[0].click().run()  # the batch norm (2·8 parameters) goes
    assert not at.exception and not at.error
    assert params() == fmt_int(12_258 - 16)
    at.number_input(key="arch_at").set_value(1)
    at.button[0].click().run()  # now the first conv goes: the residual's conv is rechained to 3 -> 8 channels
    assert any("layer 2 layers" in shown(e.value) and "must equal its input" in shown(e.value) for e in at.error)
    at.number_input(key="arch_at").set_value(1)
    at.selectbox(key="arch_op").set_value("add")
    at.number_input(key="arch_width").set_value(8)
    at.button[0].click().run()  # a 3 -> 8 conv in front: the residual gets 8 channels again
    assert not at.error and params() == fmt_int(12_258 - 16)
    code = at.main.code[0].value
    namespace = {}
    exec(code, namespace)
    net = namespace["Net"]()
    assert fmt_int(sum(p.numel() for p in net.parameters())) == params()
    assert isinstance(net, nn.Module)
    at.text_area(key="arch_json").set_value('{"in_shape": [3, 8, 8], "layers": [{"type": "conv", "dims": 2, '
                                            '"in_channels": 4, "out_channels": 2, "kernel_size": 3}]}')
    at.button[-1].click().run()
    assert any("layer 1 in_channels" in shown(e.value) for e in at.error)


def test_importing_a_stack_too_large_to_run_shows_the_limit():
    import json

    from cnnviz.architecture import codegen as cg
    at = open_page()
    layers = [cg.conv(3, 64, 3, padding=1)] + [cg.conv(64, 64, 3, padding=1) for _ in range(39)]
    at.text_area(key="arch_json").set_value(json.dumps({"in_shape": [3, 1024, 1024], "layers": layers}))
    at.button[-1].click().run()
    assert not at.exception
    assert any("stack" in shown(e.value) and "above the limit of 16,000,000" in shown(e.value) for e in at.error)


def test_builder_replace_and_input_shape_equal_torch_and_live_in_the_link():
    from cnnviz.architecture import builder as bld
    from cnnviz.architecture import codegen as cg
    from cnnviz.architecture import summarize
    at = open_page()
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
    assert metric(at, "Parameters", 1) == fmt_int(s.total_params)
    out = model(__import__("torch").zeros(1, 1, 28, 28))
    assert metric(at, "Output shape", 1) == "×".join(map(str, out.shape[1:]))
    token = at.query_params["stack"]
    token = token[0] if isinstance(token, list) else token
    assert bld.decode_stack(token) == (layers, (1, 28, 28))
    shared = open_page({"stack": token})  # the link opens the same stack in a new session
    assert metric(shared, "Parameters", 1) == metric(at, "Parameters", 1)
    assert shared.main.code[0].value == at.main.code[0].value


def test_a_broken_stack_link_is_ignored_with_a_notice():
    at = open_page({"stack": "eNrLSM3JyQcABiwCFQ"})  # deflated "hello": not a stack
    assert any("Ignored the link's stack" in shown(i.value) for i in at.info)  # escaped markdown, read as shown
    assert metric(at, "Parameters", 1) == fmt_int(12_258)  # the example instead
