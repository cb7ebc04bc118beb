"""AlphaPose's state_dict layouts (names -> shapes) for the model zoo, written from the facts in
docs/alphapose-model-facts.md, never from posekit's model code: the tests compare networks against them."""

from __future__ import annotations

Shapes = dict[str, list[int]]
BLOCKS = {18: [2, 2, 2, 2], 34: [3, 4, 6, 3], 50: [3, 4, 6, 3], 101: [3, 4, 23, 3], 152: [3, 8, 36, 3]}


def batchnorm(shapes: Shapes, prefix: str, channels: int) -> None:
    for name in ("weight", "bias", "running_mean", "running_var"):
        shapes[f"{prefix}.{name}"] = [channels]
    shapes[f"{prefix}.num_batches_tracked"] = []


def conv(shapes: Shapes, prefix: str, out: int, cin: int, k: int, bias: bool = False) -> None:
    shapes[f"{prefix}.weight"] = [out, cin, k, k]
    if bias:
        shapes[f"{prefix}.bias"] = [out]


def resnet(
    depth: int, variant: str = "se", dcn_stages=(False,) * 4, modulated: bool = False, prefix="preact"
):
    """variant: se (SE_Resnet), plain (Resnet), shuffle (ShuffleResnet); DCN as AlphaPose's, FALLBACK off."""
    shapes: Shapes = {}
    conv(shapes, f"{prefix}.conv1", 64, 3, 7)
    batchnorm(shapes, f"{prefix}.bn1", 64)
    bottleneck = depth >= 50
    expansion = 4 if bottleneck else 1
    cin = 64
    offsets = 27 if modulated else 18
    for layer, (planes, blocks) in enumerate(zip([64, 128, 256, 512], BLOCKS[depth]), start=1):
        out = planes * expansion
        stride = 1 if layer == 1 else 2
        for b in range(blocks):
            p = f"{prefix}.layer{layer}.{b}"
            block_in = cin if b == 0 else out
            has_down = b == 0 and (stride != 1 or cin != out)
            dcn = dcn_stages[layer - 1] and bottleneck and (variant != "plain" or b == 0)
            if bottleneck:
                conv(shapes, f"{p}.conv1", planes, block_in, 1)
                batchnorm(shapes, f"{p}.bn1", planes)
                block_stride = stride if b == 0 else 1
                if variant == "shuffle":
                    name = f"{p}.conv2.1" if block_stride > 1 else f"{p}.conv2"
                    width = planes * 4 if block_stride > 1 else planes
                    if dcn:
                        conv(shapes, f"{name}.conv_offset", offsets, width, 3, bias=True)
                        conv(shapes, f"{name}.conv", planes, width, 3)
                    else:
                        conv(shapes, name, planes, width, 3)
                else:
                    if dcn:
                        conv(shapes, f"{p}.conv2_offset", offsets, planes, 3, bias=True)
                    conv(shapes, f"{p}.conv2", planes, planes, 3)
                batchnorm(shapes, f"{p}.bn2", planes)
                conv(shapes, f"{p}.conv3", out, planes, 1)
                batchnorm(shapes, f"{p}.bn3", out)
            else:
                conv(shapes, f"{p}.conv1", planes, block_in, 3)
                batchnorm(shapes, f"{p}.bn1", planes)
                conv(shapes, f"{p}.conv2", planes, planes, 3)
                batchnorm(shapes, f"{p}.bn2", planes)
            if has_down and variant != "plain":
                for index in (0, 2):
                    shapes[f"{p}.se.fc.{index}.weight"] = [out, out]
                    shapes[f"{p}.se.fc.{index}.bias"] = [out]
            if has_down:
                conv(shapes, f"{p}.downsample.0", out, block_in, 1)
                batchnorm(shapes, f"{p}.downsample.1", out)
        cin = out
    return shapes


def fastpose(depth: int = 50, joints: int = 17, conv_dim: int = 128, dcn_stages=(False,) * 4) -> Shapes:
    shapes = resnet(depth, "se", dcn_stages)
    if depth >= 50:
        conv(shapes, "duc1.conv", 1024, 512, 3)
        batchnorm(shapes, "duc1.bn", 1024)
        conv(shapes, "duc2.conv", conv_dim * 4, 256, 3)
        batchnorm(shapes, "duc2.bn", conv_dim * 4)
    else:  # AlphaPose's ResNet-18 head: DUC(128, 256), DUC(64, 128), conv_out from 32
        conv(shapes, "duc1.conv", 256, 128, 3)
        batchnorm(shapes, "duc1.bn", 256)
        conv(shapes, "duc2.conv", 128, 64, 3)
        batchnorm(shapes, "duc2.bn", 128)
        conv_dim = 32
    conv(shapes, "conv_out", joints, conv_dim, 3, bias=True)
    return shapes


def fastpose_duc(depth: int, variant: str, joints: int = 17, num_conv=(4, 2, 1)) -> Shapes:
    shapes = resnet(depth, variant)
    for stage, (cin, out, count) in enumerate(zip([2048, 1024, 512], [1024, 512, 256], num_conv), start=1):
        width = cin // 4
        for index in range(count):  # Sequential: 0 PixelShuffle, then (conv, bn, relu) triples
            target = out if index == count - 1 else width
            conv(shapes, f"duc{stage}.{1 + 3 * index}", target, width, 3)
            batchnorm(shapes, f"duc{stage}.{2 + 3 * index}", target)
    conv(shapes, "conv_out", joints, 256, 3, bias=True)
    return shapes


def simplepose(depth: int = 50, joints: int = 17, dims=(256, 256, 256)) -> Shapes:
    shapes = resnet(depth, "plain")
    cin = 2048
    for i, dim in enumerate(dims):
        shapes[f"deconv_layers.{3 * i}.weight"] = [cin, dim, 4, 4]  # ConvTranspose2d: (in, out, k, k)
        batchnorm(shapes, f"deconv_layers.{3 * i + 1}", dim)
        cin = dim
    conv(shapes, "final_layer", joints, dims[-1], 1, bias=True)
    return shapes


def hrnet(
    width: int = 32, joints: int = 17, modules=(1, 4, 3), blocks: int = 4, final_kernel: int = 1
) -> Shapes:
    shapes: Shapes = {}
    conv(shapes, "conv1", 64, 3, 3)
    batchnorm(shapes, "bn1", 64)
    conv(shapes, "conv2", 64, 64, 3)
    batchnorm(shapes, "bn2", 64)
    cin = 64
    for b in range(4):
        p = f"layer1.{b}"
        conv(shapes, f"{p}.conv1", 64, cin, 1)
        batchnorm(shapes, f"{p}.bn1", 64)
        conv(shapes, f"{p}.conv2", 64, 64, 3)
        batchnorm(shapes, f"{p}.bn2", 64)
        conv(shapes, f"{p}.conv3", 256, 64, 1)
        batchnorm(shapes, f"{p}.bn3", 256)
        if b == 0:
            conv(shapes, f"{p}.downsample.0", 256, 64, 1)
            batchnorm(shapes, f"{p}.downsample.1", 256)
        cin = 256
    previous = [256]
    for stage, count in zip((2, 3, 4), modules):
        channels = [width * 2**i for i in range(stage)]
        t = f"transition{stage - 1}"
        for i, c in enumerate(channels):
            if i < len(previous):
                if previous[i] != c:
                    conv(shapes, f"{t}.{i}.0", c, previous[i], 3)
                    batchnorm(shapes, f"{t}.{i}.1", c)
            else:  # one new branch per stage: a single 3x3/2 conv from the lowest resolution
                conv(shapes, f"{t}.{i}.0.0", c, previous[-1], 3)
                batchnorm(shapes, f"{t}.{i}.0.1", c)
        for m in range(count):
            p = f"stage{stage}.{m}"
            for br, c in enumerate(channels):
                for b in range(blocks):
                    conv(shapes, f"{p}.branches.{br}.{b}.conv1", c, c, 3)
                    batchnorm(shapes, f"{p}.branches.{br}.{b}.bn1", c)
                    conv(shapes, f"{p}.branches.{br}.{b}.conv2", c, c, 3)
                    batchnorm(shapes, f"{p}.branches.{br}.{b}.bn2", c)
            outputs = 1 if (stage == 4 and m == count - 1) else stage
            for i in range(outputs):
                for j in range(stage):
                    f = f"{p}.fuse_layers.{i}.{j}"
                    if j > i:
                        conv(shapes, f"{f}.0", channels[i], channels[j], 1)
                        batchnorm(shapes, f"{f}.1", channels[i])
                    elif j < i:
                        for k in range(i - j):
                            out = channels[i] if k == i - j - 1 else channels[j]
                            conv(shapes, f"{f}.{k}.0", out, channels[j], 3)
                            batchnorm(shapes, f"{f}.{k}.1", out)
        previous = channels
    conv(shapes, "final_layer", joints, width, final_kernel, bias=True)
    return shapes
