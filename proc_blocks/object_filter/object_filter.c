#include "object_filter_args.h"

static float area(const float *b) {
    float h = b[2] - b[0], w = b[3] - b[1];
    return (h > 0.0f ? h : 0.0f) * (w > 0.0f ? w : 0.0f);
}

static float iou(const float *a, const float *b) {
    float top = a[0] > b[0] ? a[0] : b[0], left = a[1] > b[1] ? a[1] : b[1];
    float bottom = a[2] < b[2] ? a[2] : b[2], right = a[3] < b[3] ? a[3] : b[3];
    float h = bottom - top, w = right - left;
    float inter = (h > 0.0f ? h : 0.0f) * (w > 0.0f ? w : 0.0f);
    float uni = area(a) + area(b) - inter;
    return uni > 0.0f ? inter / uni : 0.0f;
}

/* Whether detection i comes before j: the higher score, then the lower index. */
static int before(const float *scores, uint32_t i, uint32_t j) {
    return scores[i] > scores[j] || (scores[i] == scores[j] && i < j);
}

int32_t object_filter_run(const object_filter_args *args, const rune_block_ctx *ctx) {
    const float *boxes = (const float *)ctx->inputs[0].data;
    const float *scores = (const float *)ctx->inputs[1].data;
    uint32_t n = ctx->inputs[1].count;
    float *out = (float *)ctx->outputs[0].data;
    uint32_t *count = (uint32_t *)ctx->outputs[1].data;
    uint32_t kept = 0, previous = UINT32_MAX;
    for (uint32_t r = 0; r < 5 * args->max_detections; r++) out[r] = 0.0f;
    /* Visit the candidates best first without sorting (no scratch memory): each step takes the
       best candidate that comes after the previous one. */
    while (kept < args->max_detections) {
        uint32_t next = UINT32_MAX;
        for (uint32_t i = 0; i < n; i++) {
            if (!(scores[i] >= args->score_threshold)) continue; /* also drops NaN */
            if (previous != UINT32_MAX && !before(scores, previous, i)) continue;
            if (next == UINT32_MAX || before(scores, i, next)) next = i;
        }
        if (next == UINT32_MAX) break;
        previous = next;
        int suppressed = 0;
        for (uint32_t k = 0; k < kept && !suppressed; k++) suppressed = iou(out + 5 * k, boxes + 4 * next) > args->iou_threshold;
        if (suppressed) continue;
        for (uint32_t c = 0; c < 4; c++) out[5 * kept + c] = boxes[4 * next + c];
        out[5 * kept + 4] = scores[next];
        kept++;
    }
    count[0] = kept;
    return RUNE_OK;
}
