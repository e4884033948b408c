"""cnnviz.architecture.tables: the Architecture Lab's tables as shown: a readable layer name first and
the module path second, headers in words, numbers as numbers with a thousands-separator format. Values by hand."""
import torch

from cnnviz.architecture import summarize, tables
from cnnviz.architecture.blocks.compare import compare_blocks
from cnnviz.architecture.blocks.scaling import ScaledRow
from cnnviz.architecture.presets import lenet5
from cnnviz.inside.names import layer_titles

torch.set_num_threads(1)


def lenet_rows(macs=False):
    model = lenet5()
    return tables.layer_rows(summarize(model, (1, 32, 32)), layer_titles(model), macs)


def test_layer_rows_name_first_path_second_headers_in_words():
    rows = lenet_rows()
    assert list(rows[0]) == ["Layer", "Module", "Kind", "Input shape", "Output shape", "Parameters", "FLOPs",
                             "Receptive field", "Activations (KiB)"]
    assert all("_" not in h for h in rows[0])
    # conv 5×5, 1 -> 6 on 32×32: 6·25 + 6 = 156 weights; 2·(6·28·28)·25 = 235,200 FLOPs; 6·28·28·4 B = 18.375 KiB
    assert rows[0] == {"Layer": "conv 1", "Module": "0", "Kind": "Conv2d", "Input shape": "1×32×32",
                       "Output shape": "6×28×28", "Parameters": 156, "FLOPs": 235_200, "Receptive field": "5×5",
                       "Activations (KiB)": 18.4}
    assert [r["Layer"] for r in rows] == ["conv 1", "tanh 1", "avg pool 1", "conv 2", "tanh 2", "avg pool 2",
                                          "conv 3", "tanh 3", "flatten 1", "linear 1", "tanh 4", "linear 2"]
    assert [r["Module"] for r in rows] == [str(i) for i in range(12)]
    # conv 6 -> 16, 5×5 on 14×14: 6·16·25 + 16 = 2,416 weights, 2·(16·10·10)·150 = 480,000 FLOPs
    assert (rows[3]["Parameters"], rows[3]["FLOPs"], rows[3]["Output shape"]) == (2_416, 480_000, "16×10×10")
    assert rows[9]["Parameters"] == 120 * 84 + 84 == 10_164 and rows[9]["FLOPs"] == 2 * 120 * 84
    assert sum(r["Parameters"] for r in rows) == 61_706
    assert all(isinstance(r["Parameters"], int) and isinstance(r["FLOPs"], int) for r in rows)  # they sort as numbers


def test_layer_rows_in_macs_halve_the_flops_and_rename_the_column():
    rows = lenet_rows(macs=True)
    assert "FLOPs" not in rows[0] and rows[0]["MACs"] == 117_600 and rows[3]["MACs"] == 240_000
    assert tables.layer_formats(True) == {"Parameters": "%,d", "MACs": "%,d", "Activations (KiB)": "%,.1f"}
    assert tables.layer_formats(False)["FLOPs"] == "%,d"


def test_layer_rows_fall_back_to_the_path_without_a_title():
    rows = tables.layer_rows(summarize(lenet5(), (1, 32, 32)))
    assert rows[0]["Layer"] == rows[0]["Module"] == "0"


def test_block_rows_headers_in_words_numbers_as_numbers():
    rows = tables.block_rows(compare_blocks(32, 64, 3, 16, 4, 4))
    std, dws = rows[0], rows[1]
    assert list(std) == ["Block", "Parameters", "Parameters (closed form)", "Parameter ratio", "Ratio formula",
                         "Ratio (closed form)", "FLOPs", "FLOPs ratio", "How"]
    assert all("_" not in h for h in std)
    # standard 3×3, 32 -> 64, no bias, on 16×16: 9·32·64 = 18,432 weights, 2·256·18,432 = 9,437,184 FLOPs
    assert (std["Block"], std["Parameters"], std["FLOPs"], std["Parameter ratio"]) == ("standard", 18_432,
                                                                                        9_437_184, 1.0)
    # depthwise-separable: 9·32 + 32·64 = 2,336 weights; 2,336 / 18,432 = 1/64 + 1/9 = 0.1267
    assert dws["Parameters"] == dws["Parameters (closed form)"] == 2_336
    assert dws["Parameter ratio"] == dws["Ratio (closed form)"] == 0.1267
    macs = tables.block_rows(compare_blocks(32, 64, 3, 16, 4, 4), macs=True)[0]
    assert macs["MACs"] == 4_718_592 and "MACs ratio" in macs and "FLOPs" not in macs
    assert set(tables.block_formats(True)) <= set(macs)  # every format names a column


def test_scaling_rows():
    row = ScaledRow(phi=1, depth=2, widths=(18, 35, 70), resolution=37, flops=1_234_567, ratio=1.9234,
                    predicted=1.9203, two_phi=2.0)
    flops, macs = tables.scaling_rows([row])[0], tables.scaling_rows([row], macs=True)[0]
    assert flops == {"φ": 1, "Depth per stage": 2, "Channels per stage": "18, 35, 70", "Resolution (px)": 37,
                     "FLOPs": 1_234_567, "Growth (measured)": 1.92, "Growth (α·β²·γ²)^φ": 1.92, "2^φ": 2.0}
    assert macs["MACs"] == 617_283
    assert set(tables.scaling_formats()) <= set(flops) and all("_" not in h for h in flops)
