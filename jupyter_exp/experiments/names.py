"""Random ``adjective-noun`` experiment names, unique per baseline."""

from __future__ import annotations

import random

ADJECTIVES = (
    "amber agile airy algal alpine apt arid ashen azure balmy bold brave brisk bushy calm "
    "candid civic clear comfy coral cozy crisp curly daft dandy dapper deft dewy dim dizzy "
    "doted downy dusky eager early edgy elfin epic even faint fancy fast feral fiery fine "
    "firm fleet fluid foggy fond frank fresh frosty fuzzy gentle giddy glad gleamy glossy "
    "golden grand green hardy hasty hazy hearty honest humble icy ideal jolly jumpy keen "
    "kind lanky lively lofty loyal lucid lucky lunar mellow merry mild minty misty modest "
    "mossy muddy neat nimble noble nutty oaken olive orange pale peppy perky plucky plush "
    "polar proud quick quiet rapid rosy royal ruddy rustic sandy savvy scenic shady sharp "
    "shiny silky silver sleek snowy solar solid spicy spry stark steady stormy sunny swift "
    "tame tangy tidy tiny topaz tough trim vivid warm wavy wily windy witty young zesty"
).split()
NOUNS = (
    "acorn alder anvil apple arch aspen atlas badge basin beacon bison bloom boulder brook "
    "cabin canal canoe cedar chalk cider cliff clover comet coral crane creek crest delta "
    "dingo dune eagle ember fable falcon fern finch fjord flint forge fox gale garnet gecko "
    "geyser glade glen grove gull harbor hazel heron hill holly ibis iris isle ivy jade "
    "jetty kayak kelp kiln knoll lagoon lake larch lark ledge lemur lily lotus lynx maple "
    "marsh meadow mesa mink moose moss newt oak oasis orca otter owl panda pearl pebble "
    "pine plume pond poppy quail quartz raven reef ridge river robin sage salmon sequoia "
    "shoal sparrow spruce stone stork summit swan thistle thorn tide tulip tundra valley "
    "violet walrus willow wren yak yarrow zephyr"
).split()

# A private generator: a seed set by the user's ML code must not make names repeat.
_random = random.Random()


def random_name(taken: set[str]) -> str:
    """An ``adjective-noun`` not in ``taken`` (names already used on this baseline)."""
    for _ in range(1000):
        name = f"{_random.choice(ADJECTIVES)}-{_random.choice(NOUNS)}"
        if name not in taken:
            return name
    # Astronomically unlikely with ~25,000 combinations; still never loop forever.
    suffix = 2
    while f"{name}-{suffix}" in taken:
        suffix += 1
    return f"{name}-{suffix}"
