"""numpy reference of the center_crop block."""


def run(inputs, args):
    image = inputs[0]
    h, w = image.shape[-3], image.shape[-2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return [image[..., top:top + side, left:left + side, :].copy()]
