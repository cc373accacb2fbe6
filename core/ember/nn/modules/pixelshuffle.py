"""PixelShuffle and PixelUnshuffle."""
from .. import functional as F
from .module import Module

__all__ = ["PixelShuffle", "PixelUnshuffle"]


class PixelShuffle(Module):
    """Rearranges (*, C r^2, H, W) into (*, C, H r, W r) (sub-pixel convolution).

    Args:
        upscale_factor (int): r.

    Example:
        >>> import ember
        >>> ember.nn.PixelShuffle(3)(ember.randn(1, 9, 4, 4)).shape
        (1, 1, 12, 12)
    """

    def __init__(self, upscale_factor):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        """Applies F.pixel_shuffle."""
        r2 = self.upscale_factor ** 2
        if input.ndim < 3 or input.shape[-3] % r2:
            raise ValueError(f"{self._get_name()}(upscale_factor={self.upscale_factor}): expected input (*, C, H, W) "
                             f"with C divisible by {r2}, got shape {tuple(input.shape)}")
        return F.pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self):
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    """Rearranges (*, C, H r, W r) into (*, C r^2, H, W) (the inverse of PixelShuffle).

    Args:
        downscale_factor (int): r.

    Example:
        >>> import ember
        >>> ember.nn.PixelUnshuffle(3)(ember.randn(1, 1, 12, 12)).shape
        (1, 9, 4, 4)
    """

    def __init__(self, downscale_factor):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        """Applies F.pixel_unshuffle."""
        r = self.downscale_factor
        if input.ndim < 3 or input.shape[-1] % r or input.shape[-2] % r:
            raise ValueError(f"{self._get_name()}(downscale_factor={r}): expected input (*, C, H, W) with H and W "
                             f"divisible by {r}, got shape {tuple(input.shape)}")
        return F.pixel_unshuffle(input, r)

    def extra_repr(self):
        return f"downscale_factor={self.downscale_factor}"
