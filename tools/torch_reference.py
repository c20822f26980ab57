"""Plain PyTorch reference for one ToThePoint pre-training step.

This is a benchmark reference, not part of the library: `tools/benchmark.py`
times it next to the Keras implementation to give a "ratio to beat". It is
written the way the authors' public PyTorch code works (Li et al., "ToThePoint:
Efficient Contrastive Learning of 3D Point Clouds via Recycling", CVPR 2023):

* the PointNet encoder with its 3x3 input and 64x64 feature T-Nets, and the
  standard DGCNN encoder (`get_graph_feature`-style EdgeConv, kNN recomputed on
  every layer), both returning per-point features of shape (B, emb_dims, N);
* two independently augmented views of every cloud, batched with torch ops;
* recycling: the per-point features are sorted in descending order along the
  point axis, and row 0 (the max pool) and row r (one random r in [1, N-1] per
  step) are kept; the recycled row is detached for PointNet, not for DGCNN;
* a 2-layer projection head applied to each of the four features, and
  NT-Xent(max1, r1) + NT-Xent(max2, r2) + NT-Xent(max1, max2) at
  temperature 0.1;
* one Adam(lr=1e-3, weight_decay=1e-4) update.

It imports nothing from Keras or keras_ttp. Run it on its own with e.g.

    python tools/torch_reference.py --backbone dgcnn --batch-size 32 --num-points 1024
"""

import argparse
import resource
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

TEMPERATURE = 0.1
BACKBONES = ("pointnet", "dgcnn")


# --------------------------------------------------------------------------
# PointNet
# --------------------------------------------------------------------------


def _conv1d_bn(in_channels, out_channels, relu=True):
    """1x1 Conv1d + BatchNorm1d (+ ReLU): a shared per-point MLP layer."""
    layers = [nn.Conv1d(in_channels, out_channels, 1), nn.BatchNorm1d(out_channels)]
    if relu:
        layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _linear_bn_relu(in_features, out_features):
    return nn.Sequential(
        nn.Linear(in_features, out_features), nn.BatchNorm1d(out_features), nn.ReLU()
    )


class TNet(nn.Module):
    """Predicts a (dim x dim) transform from a (B, dim, N) point set.

    The last layer starts at zero, so the initial transform is the identity.
    """

    def __init__(self, dim):
        super().__init__()
        self.dim = dim
        self.point_mlp = nn.Sequential(
            _conv1d_bn(dim, 64), _conv1d_bn(64, 128), _conv1d_bn(128, 1024)
        )
        self.global_mlp = nn.Sequential(
            _linear_bn_relu(1024, 512), _linear_bn_relu(512, 256)
        )
        self.transform = nn.Linear(256, dim * dim)
        nn.init.zeros_(self.transform.weight)
        nn.init.zeros_(self.transform.bias)

    def forward(self, x):
        """(B, dim, N) -> (B, dim, dim)."""
        pooled = self.point_mlp(x).max(dim=2).values
        matrix = self.transform(self.global_mlp(pooled)).view(-1, self.dim, self.dim)
        return matrix + torch.eye(self.dim, device=x.device, dtype=x.dtype)


def _apply_transform(x, matrix):
    """Transforms (B, C, N) points by a (B, C, C) matrix: (x^T A)^T."""
    return torch.bmm(x.transpose(1, 2), matrix).transpose(1, 2)


class PointNet(nn.Module):
    """PointNet encoder: (B, 3, N) points -> (B, emb_dims, N) point features."""

    def __init__(self, emb_dims=1024):
        super().__init__()
        self.input_tnet = TNet(3)
        self.conv1 = _conv1d_bn(3, 64)
        self.feature_tnet = TNet(64)
        self.conv2 = _conv1d_bn(64, 128)
        self.conv3 = _conv1d_bn(128, emb_dims, relu=False)

    def forward(self, x):
        x = _apply_transform(x, self.input_tnet(x))
        x = self.conv1(x)
        x = _apply_transform(x, self.feature_tnet(x))
        return self.conv3(self.conv2(x))


# --------------------------------------------------------------------------
# DGCNN
# --------------------------------------------------------------------------


def knn(x, k):
    """Indices (B, N, k) of the k nearest points (the point itself included).

    x is (B, C, N). Ranks by -||x_i - x_j||^2 = 2 x_i.x_j - |x_i|^2 - |x_j|^2,
    nearest first.
    """
    inner = torch.matmul(x.transpose(1, 2), x)
    squared = (x**2).sum(dim=1, keepdim=True)
    neg_distance = 2 * inner - squared - squared.transpose(1, 2)
    return neg_distance.topk(k, dim=-1).indices


def graph_feature(x, k):
    """Edge features (B, 2C, N, k) = [x_j - x_i, x_i] over the kNN of each x_i."""
    batch, channels, num_points = x.shape
    idx = knn(x, k) + torch.arange(batch, device=x.device).view(-1, 1, 1) * num_points
    points = x.transpose(1, 2).contiguous()  # (B, N, C)
    neighbours = points.view(batch * num_points, channels)[idx.view(-1)]
    neighbours = neighbours.view(batch, num_points, k, channels)
    centres = points.unsqueeze(2).expand(-1, -1, k, -1)
    edges = torch.cat((neighbours - centres, centres), dim=3)
    return edges.permute(0, 3, 1, 2).contiguous()


class EdgeConv(nn.Module):
    """kNN graph on the input, shared 1x1 Conv2d on the edges, max over k."""

    def __init__(self, in_channels, out_channels, k):
        super().__init__()
        self.k = k
        self.mlp = nn.Sequential(
            nn.Conv2d(2 * in_channels, out_channels, 1, bias=False),
            nn.BatchNorm2d(out_channels),
            nn.LeakyReLU(0.2),
        )

    def forward(self, x):
        """(B, C_in, N) -> (B, C_out, N)."""
        return self.mlp(graph_feature(x, self.k)).max(dim=-1).values


class DGCNN(nn.Module):
    """DGCNN encoder: (B, 3, N) points -> (B, emb_dims, N) point features."""

    def __init__(self, k=20, emb_dims=1024):
        super().__init__()
        widths = (64, 64, 128, 256)
        inputs = (3,) + widths[:-1]
        self.edge_convs = nn.ModuleList(
            EdgeConv(c_in, c_out, k) for c_in, c_out in zip(inputs, widths)
        )
        self.fuse = nn.Sequential(
            nn.Conv1d(sum(widths), emb_dims, 1, bias=False),
            nn.BatchNorm1d(emb_dims),
            nn.LeakyReLU(0.2),
        )

    def forward(self, x):
        features = []
        for edge_conv in self.edge_convs:
            x = edge_conv(x)
            features.append(x)
        return self.fuse(torch.cat(features, dim=1))


# --------------------------------------------------------------------------
# Augmentation, recycling, loss
# --------------------------------------------------------------------------


def _uniform(shape, low, high, like):
    return torch.rand(shape, device=like.device, dtype=like.dtype) * (high - low) + low


def augment(points):
    """One random view of each cloud in a (B, N, 3) batch, samples independent.

    Shuffle, normalise to the unit sphere, scale U(0.5, 2), rotate about y by
    U(0, 2 pi), translate by U(-0.5, 0.5) times the per-axis extent, jitter
    N(0, 0.01) clipped to +-0.05, and random input dropout (ratio
    U(0, 0.875); dropped points become the first point).
    """
    batch, num_points, _ = points.shape
    order = torch.rand(batch, num_points, device=points.device).argsort(dim=1)
    x = points.gather(1, order.unsqueeze(-1).expand(-1, -1, 3))

    x = x - x.mean(dim=1, keepdim=True)
    x = x / x.norm(dim=2).max(dim=1).values.view(-1, 1, 1)

    x = x * _uniform((batch, 1, 1), 0.5, 2.0, x)

    angle = _uniform((batch,), 0.0, 2 * np.pi, x)
    cos, sin = angle.cos(), angle.sin()
    zero, one = torch.zeros_like(angle), torch.ones_like(angle)
    rotation = torch.stack(
        (cos, zero, sin, zero, one, zero, -sin, zero, cos), dim=1
    ).view(batch, 3, 3)
    x = torch.bmm(x, rotation.transpose(1, 2))

    extent = x.max(dim=1, keepdim=True).values - x.min(dim=1, keepdim=True).values
    x = x + _uniform((batch, 1, 3), -0.5, 0.5, x) * extent

    x = x + (0.01 * torch.randn_like(x)).clamp(-0.05, 0.05)

    ratio = _uniform((batch, 1), 0.0, 0.875, x)
    dropped = torch.rand(batch, num_points, device=x.device, dtype=x.dtype) <= ratio
    return torch.where(dropped.unsqueeze(-1), x[:, :1], x)


def recycle(features, r):
    """(max, r-th) rows of (B, C, N) features sorted descending over points.

    r is an int or a 1-element index tensor; both outputs are (B, C).
    """
    ordered = torch.sort(features, dim=2, descending=True).values
    index = torch.as_tensor(r, device=features.device).view(1)
    return ordered[:, :, 0], ordered.index_select(2, index).squeeze(2)


def nt_xent(a, b, temperature=TEMPERATURE):
    """Symmetrised NT-Xent of two (B, D) batches whose rows i are positives.

    For each row of a, the positive is b_i and the negatives are a_k and b_k
    (k != i); likewise with a and b swapped. Averaged over the 2B rows.
    """
    z = F.normalize(torch.cat((a, b), dim=0), dim=1)
    logits = z @ z.t() / temperature
    self_mask = torch.eye(len(z), dtype=torch.bool, device=z.device)
    logits = logits.masked_fill(self_mask, float("-inf"))
    batch = len(a)
    targets = torch.arange(2 * batch, device=z.device).roll(batch)
    return F.cross_entropy(logits, targets)


def projection_head(emb_dims):
    """Linear(emb_dims, 512) + BatchNorm1d + ReLU + Linear(512, 256)."""
    return nn.Sequential(
        nn.Linear(emb_dims, 512), nn.BatchNorm1d(512), nn.ReLU(), nn.Linear(512, 256)
    )


class ToThePoint(nn.Module):
    """Backbone + projection head; forward(points) gives the training loss."""

    def __init__(self, backbone, emb_dims, detach_recycled):
        super().__init__()
        self.backbone = backbone
        self.head = projection_head(emb_dims)
        self.detach_recycled = detach_recycled

    def forward(self, points):
        """(B, N, 3) clouds -> scalar loss over two augmented views."""
        num_points = points.shape[1]
        r = torch.randint(1, num_points, (1,), device=points.device)
        projections = []
        for _ in range(2):
            features = self.backbone(augment(points).transpose(1, 2))
            max_feature, recycled = recycle(features, r)
            if self.detach_recycled:
                recycled = recycled.detach()
            projections.append((self.head(max_feature), self.head(recycled)))
        (z_max1, z_r1), (z_max2, z_r2) = projections
        return nt_xent(z_max1, z_r1) + nt_xent(z_max2, z_r2) + nt_xent(z_max1, z_max2)


# --------------------------------------------------------------------------
# Training step and timing
# --------------------------------------------------------------------------


def _check_compile():
    """Raises RuntimeError if torch.compile cannot compile and run a tiny function."""
    try:
        probe = torch.compile(lambda x: torch.relu(x) * 2 + 1)
        probe(torch.randn(8))
    except Exception as error:  # any failure means "not available here"
        reason = f"{type(error).__name__}: {error}".strip().splitlines()[0]
        raise RuntimeError(f"torch.compile is not available: {reason}") from error


def make_step(backbone_name, compile=False, **backbone_kwargs):
    """Builds the model and optimizer and returns (parts, step_fn).

    parts is {"model": ToThePoint, "optimizer": Adam}. step_fn(points) takes a
    (B, N, 3) float32 array or tensor, runs one training step and returns the
    loss as a float. backbone_kwargs go to the backbone (e.g. k, emb_dims).
    With compile=True the loss computation is wrapped in torch.compile; raises
    RuntimeError if torch.compile does not work on this machine.
    """
    if backbone_name == "pointnet":
        backbone, detach_recycled = PointNet(**backbone_kwargs), True
    elif backbone_name == "dgcnn":
        backbone, detach_recycled = DGCNN(**backbone_kwargs), False
    else:
        raise ValueError(f"backbone_name must be one of {BACKBONES}, got {backbone_name!r}")
    emb_dims = backbone_kwargs.get("emb_dims", 1024)
    model = ToThePoint(backbone, emb_dims, detach_recycled).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    if compile:
        _check_compile()
        compute_loss = torch.compile(model)
    else:
        compute_loss = model

    def step_fn(points):
        points = torch.as_tensor(points, dtype=torch.float32)
        optimizer.zero_grad()
        loss = compute_loss(points)
        loss.backward()
        optimizer.step()
        return loss.item()

    return {"model": model, "optimizer": optimizer}, step_fn


def time_step(
    backbone_name, batch_size, num_points, warmup, repeats, compile=False, seed=0,
    **backbone_kwargs,
):
    """Times `repeats` steps after `warmup` untimed ones on fixed random clouds.

    Returns {"times": [seconds per step], "peak_gib": peak resident memory of
    the process}.
    """
    torch.manual_seed(seed)
    _, step_fn = make_step(backbone_name, compile=compile, **backbone_kwargs)
    points = np.random.default_rng(seed).normal(size=(batch_size, num_points, 3))
    points = torch.from_numpy(points.astype(np.float32))
    for _ in range(warmup):
        step_fn(points)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step_fn(points)
        times.append(time.perf_counter() - start)
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    return {"times": times, "peak_gib": peak_gib}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="pointnet", choices=BACKBONES)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-points", type=int, default=1024)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--compile", action="store_true", help="wrap the loss in torch.compile")
    args = parser.parse_args()
    result = time_step(
        args.backbone, args.batch_size, args.num_points, args.warmup, args.repeats,
        compile=args.compile,
    )
    times = sorted(result["times"])
    print(
        f"{args.backbone} B={args.batch_size} N={args.num_points} compile={args.compile}: "
        f"median {times[len(times) // 2]:.3f} s, peak {result['peak_gib']:.2f} GiB"
    )


if __name__ == "__main__":
    main()
