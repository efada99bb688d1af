#!/usr/bin/env bash
# Quick start: set up, fetch the models, and cut the person out of the bundled sample photo.
set -euo pipefail
. "$(dirname "$0")/setup.sh"
mattekit models fetch selfie isnet-medium
mattekit remove examples/astronaut.jpg -o astronaut.cutout.png
mattekit replace examples/astronaut.jpg --subject person --bg blur -o astronaut.portrait.jpg
echo "wrote astronaut.cutout.png (transparent cutout) and astronaut.portrait.jpg (blurred background)"
