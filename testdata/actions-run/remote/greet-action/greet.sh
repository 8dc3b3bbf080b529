#!/bin/sh
echo "message=remote hello $1" >> "$GITHUB_OUTPUT"
echo "greet.sh from the action cache greets $1"
