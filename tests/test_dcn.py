"""Deformable convolution in plain PyTorch: mmcv's/AlphaPose's semantics, autograd, ONNX, OpenVINO."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from posekit.models.dcn import DCN, DeformConv, deform_conv2d

# x[i, j] = 1 + 3 i + j: bilinear interpolation inside the image gives 1 + 3 y + x exactly.
IMAGE = torch.arange(1.0, 10.0).view(1, 1, 3, 3)


@pytest.mark.parametrize(
    ("stride", "padding", "dilation", "groups"), [(1, 1, 1, 1), (2, 1, 1, 2), (1, 2, 2, 4)]
)
def test_zero_offsets_equal_plain_convolution(stride, padding, dilation, groups):
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(2, 8, 9, 7, generator=generator)
    weight, bias = torch.randn(5, 8, 3, 3, generator=generator), torch.randn(5, generator=generator)
    expected = F.conv2d(x, weight, bias, stride, padding, dilation)
    offset = torch.zeros(2, 2 * 9 * groups, *expected.shape[2:])
    got = deform_conv2d(x, offset, weight, bias, stride, padding, dilation)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-5)
    mask = torch.ones(2, 9 * groups, *expected.shape[2:])  # v2 with mask 1 is v1
    torch.testing.assert_close(deform_conv2d(x, offset, weight, bias, stride, padding, dilation, mask), got)


def test_fractional_offsets_give_hand_computed_bilinear_values():
    # 1x1 kernel, weight 1: out[h, w] = sample at (h + 0.5, w + 0.25).
    offset = torch.tensor([0.5, 0.25]).view(1, 2, 1, 1).expand(1, 2, 3, 3)
    out = deform_conv2d(IMAGE, offset, torch.ones(1, 1, 1, 1))[0, 0]
    assert out[0, 0].item() == pytest.approx(2.75)  # (0.5, 0.25): 1 + 1.5 + 0.25
    # (1.5, 2.25): corners (1,2)=6 w .5*.75, (2,2)=9 w .5*.75, column 3 outside -> (6 + 9) * 0.375
    assert out[1, 2].item() == pytest.approx((6 + 9) * 0.375)
    assert out[2, 2].item() == pytest.approx(9 * 0.5 * 0.75)  # (2.5, 2.25): only (2, 2) inside
    far = torch.tensor([-1.0, 0.0]).view(1, 2, 1, 1).expand(1, 2, 3, 3)  # row 0 -> y = -1: all outside
    assert deform_conv2d(IMAGE, far, torch.ones(1, 1, 1, 1))[0, 0, 0].tolist() == [0.0, 0.0, 0.0]


def test_offsets_are_dy_dx_per_tap_in_row_major_order():
    # 3x3 kernel, padding 1, weight only on tap (i=0, j=2) = k 2; its offsets are channels 4 (dy), 5 (dx).
    weight = torch.zeros(1, 1, 3, 3)
    weight[0, 0, 0, 2] = 1.0
    offset = torch.randn(1, 18, 3, 3, generator=torch.Generator().manual_seed(3))  # other taps: weight 0
    offset[0, 4], offset[0, 5] = 1.0, -0.5
    out = deform_conv2d(IMAGE, offset, weight, padding=1)
    # output (1, 1): tap (0, 2) sits at (0, 2); moved by (1, -0.5) -> (1, 1.5): 1 + 3 + 1.5
    assert out[0, 0, 1, 1].item() == pytest.approx(5.5)
    mask = torch.ones(1, 9, 3, 3)
    mask[0, 2] = 0.25  # v2: the mask of tap 2 scales its sample
    assert deform_conv2d(IMAGE, offset, weight, padding=1, mask=mask)[0, 0, 1, 1].item() == pytest.approx(
        5.5 / 4
    )


def test_deform_groups_split_channels_contiguously():
    x = torch.cat([IMAGE, 10 * IMAGE], dim=1)  # channel 0 and channel 1 = 10x
    offset = torch.zeros(1, 4, 3, 3)  # 1x1 kernel, 2 groups: group 0 moves right by 1, group 1 down by 1
    offset[0, 1] = 1.0
    offset[0, 2] = 1.0
    out = deform_conv2d(x, offset, torch.ones(1, 2, 1, 1))[0, 0]
    # at (0, 0): channel 0 samples (0, 1) = 2, channel 1 samples (1, 0) = 10 * 4
    assert out[0, 0].item() == pytest.approx(2 + 40)


def test_gradients_match_finite_differences():
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(1, 2, 4, 4, dtype=torch.double, generator=generator, requires_grad=True)
    weight = torch.randn(2, 2, 3, 3, dtype=torch.double, generator=generator, requires_grad=True)
    # offsets away from integers (bilinear interpolation has kinks there); 2 deform groups
    offset = (torch.rand(1, 36, 2, 2, dtype=torch.double, generator=generator) * 0.8 + 0.1).requires_grad_()
    mask = torch.rand(1, 18, 2, 2, dtype=torch.double, generator=generator).requires_grad_()

    def f(x, offset, weight, mask):
        return deform_conv2d(x, offset, weight, None, 2, 1, 1, mask)

    assert torch.autograd.gradcheck(f, (x, offset, weight, mask), fast_mode=True)


def _dcn_net(modulated: bool) -> torch.nn.Module:
    torch.manual_seed(4)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, padding=1), DCN(8, 6, modulated, 2, stride=2))
    torch.nn.init.normal_(net[1].conv_offset.weight, std=0.3)  # offsets of about a pixel, fractional
    return net.eval()


@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="needs onnxruntime")
@pytest.mark.parametrize("modulated", [False, True])
def test_onnx_export_runs_equal_on_onnxruntime_and_openvino(tmp_path, modulated):
    from posekit.runtime.build import build_runner

    net = _dcn_net(modulated)
    sample = torch.randn(2, 3, 16, 12, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        expected = net(sample).numpy()
        offsets = net[1].conv_offset(net[0](sample))
    assert offsets.abs().max() > 0.5  # the export is checked with real, fractional displacements
    got = build_runner(net, sample.shape, backend="onnx")(sample.numpy())
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    if importlib.util.find_spec("openvino") is not None:
        got = build_runner(net, sample.shape, backend="openvino", precision="fp32")(sample.numpy())
        np.testing.assert_allclose(got, expected, rtol=1e-3, atol=1e-3)


def test_deform_conv_trains():
    torch.manual_seed(6)
    layer = DCN(4, 4)
    x = torch.randn(2, 4, 8, 8)
    layer(x).square().mean().backward()
    assert isinstance(layer.conv, DeformConv)
    assert layer.conv.weight.grad.abs().sum() > 0 and layer.conv_offset.weight.grad.abs().sum() > 0
