"""The models of `python -m bench`, each written once against an `nn` namespace (``ember.nn`` or
``torch.nn``), so that both libraries run the same architecture.

This module imports neither library: bench/memory.py builds these models in a subprocess that
loads only one of them (so that its peak RSS is that library's alone).
"""


def mlp(nn, sizes=(784, 512, 512, 10)):
    """Linear + ReLU layers of the given widths; the last Linear has no activation."""
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _basic_block(nn, cin, cout, stride):
    class BasicBlock(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.shortcut = nn.Identity()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            out = self.bn1(self.conv1(x)).relu()
            out = self.bn2(self.conv2(out))
            return (out + self.shortcut(x)).relu()
    return BasicBlock()


def resnet18(nn, widths=(64, 128, 256, 512), num_classes=10):
    """ResNet-18 for CIFAR: 3x3 stem, no max-pool, BasicBlocks [2, 2, 2, 2]."""
    class ResNet18(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, 1, 1, bias=False), nn.BatchNorm2d(widths[0]),
                                      nn.ReLU())
            blocks, cin = [], widths[0]
            for i, w in enumerate(widths):
                blocks += [_basic_block(nn, cin, w, 1 if i == 0 else 2), _basic_block(nn, w, w, 1)]
                cin = w
            self.layers = nn.Sequential(*blocks)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(cin, num_classes)

        def forward(self, x):  # (B, 3, H, W)
            return self.fc(self.pool(self.layers(self.stem(x))).flatten(1))  # (B, classes)
    return ResNet18()


def _conv_bn(nn, cin, cout, k=1, stride=1, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU6())
    return nn.Sequential(*layers)


def _inverted_residual(nn, cin, cout, stride, expand):
    hidden = cin * expand

    class InvertedResidual(nn.Module):
        """1x1 expand (skipped when expand == 1), 3x3 depthwise, 1x1 linear projection; the input
        is added back when the shapes allow."""

        def __init__(self):
            super().__init__()
            self.expand = _conv_bn(nn, cin, hidden) if expand != 1 else nn.Identity()
            self.depthwise = _conv_bn(nn, hidden, hidden, 3, stride, groups=hidden)
            self.project = _conv_bn(nn, hidden, cout, act=False)
            self.residual = stride == 1 and cin == cout

        def forward(self, x):  # (B, cin, H, W)
            out = self.project(self.depthwise(self.expand(x)))  # (B, cout, H / stride, W / stride)
            return x + out if self.residual else out
    return InvertedResidual()


# (expand, channels, blocks, stride of the first block): MobileNetV2's table up to 96 channels,
# with CIFAR's strides (32x32 in: 32 -> 16 -> 8)
MOBILENET_STAGES = ((1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1))


def mobilenet_v2(nn, stages=MOBILENET_STAGES, stem=32, head=384, num_classes=10):
    """A MobileNetV2-style CIFAR network: 3x3 stem, stages of inverted-residual blocks (ReLU6,
    depthwise convolutions, linear bottlenecks), a 1x1 head conv, global pool and a classifier."""
    class MobileNetV2(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = _conv_bn(nn, 3, stem, 3)
            blocks, cin = [], stem
            for t, c, n, s in stages:
                for i in range(n):
                    blocks.append(_inverted_residual(nn, cin, c, s if i == 0 else 1, t))
                    cin = c
            self.blocks = nn.Sequential(*blocks)
            self.head = _conv_bn(nn, cin, head)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(head, num_classes)

        def forward(self, x):  # (B, 3, H, W)
            return self.fc(self.pool(self.head(self.blocks(self.stem(x)))).flatten(1))  # (B, classes)
    return MobileNetV2()


def encoder(nn, d_model=256, nhead=4, ff=1024, layers=4):
    """nn.TransformerEncoder of `layers` post-norm layers (ReLU MLP, no dropout), batch first."""
    layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward=ff, dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)


def lstm_lm(nn, vocab=10000, dim=256, layers=2):
    """A word-level LSTM language model (PyTorch's word_language_model, untied, no dropout):
    Embedding -> LSTM -> Linear over the vocabulary."""
    class LSTMLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, dim)
            self.rnn = nn.LSTM(dim, dim, layers)
            self.head = nn.Linear(dim, vocab)

        def forward(self, tokens):  # (T, B) token ids
            out, _ = self.rnn(self.embed(tokens))  # (T, B, dim)
            return self.head(out).flatten(0, 1)  # (T * B, vocab)
    return LSTMLM()


def _bottleneck(nn, cin, width, stride):
    class Bottleneck(nn.Module):
        def __init__(self):
            super().__init__()
            cout = width * 4
            self.body = nn.Sequential(
                nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout))
            self.shortcut = nn.Identity()
            if stride != 1 or cin != cout:
                self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            return (self.body(x) + self.shortcut(x)).relu()
    return Bottleneck()


def resnet50(nn, num_classes=1000):
    """ResNet-50 (torchvision's v1.5 layout: stride in the 3x3 conv) for 224x224 images."""
    class ResNet50(nn.Module):
        def __init__(self):
            super().__init__()
            self.stem = nn.Sequential(nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                                      nn.MaxPool2d(3, 2, 1))
            blocks, cin = [], 64
            for i, (width, n) in enumerate(zip((64, 128, 256, 512), (3, 4, 6, 3))):
                for b in range(n):
                    blocks.append(_bottleneck(nn, cin, width, 2 if b == 0 and i > 0 else 1))
                    cin = width * 4
            self.layers = nn.Sequential(*blocks)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(cin, num_classes)

        def forward(self, x):  # (B, 3, 224, 224)
            return self.fc(self.pool(self.layers(self.stem(x))).flatten(1))
    return ResNet50()


def gpt_decoder(nn, F, vocab=50304, d=768, heads=12, layers=12, ctx=1024):
    """A GPT-2-small-style decoder: token + position embeddings, pre-norm blocks of causal
    scaled-dot-product attention and a GELU MLP, a final LayerNorm and an untied LM head.
    F: the library's nn.functional (for scaled_dot_product_attention)."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
            self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)
            self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

        def forward(self, x):  # (B, T, d)
            B, T, _ = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(d, dim=2)
            q, k, v = (t.reshape(B, T, heads, d // heads).transpose(1, 2) for t in (q, k, v))
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(a.transpose(1, 2).reshape(B, T, d))
            return x + self.mlp(self.ln2(x))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok, self.pos = nn.Embedding(vocab, d), nn.Embedding(ctx, d)
            self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
            self.ln, self.head = nn.LayerNorm(d), nn.Linear(d, vocab, bias=False)

        def forward(self, idx, positions):  # idx (B, T) token ids, positions (T,)
            return self.head(self.ln(self.blocks(self.tok(idx) + self.pos(positions))))  # (B, T, vocab)
    return GPT()
