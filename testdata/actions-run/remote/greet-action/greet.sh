#!/bin/sh
echo "message=remote hello $1" >> "$GITHUB_OUTPUT"
echo "greet.sh from the action cache greets $1"
echo "action repository=$GITHUB_ACTION_REPOSITORY ref=$GITHUB_ACTION_REF"
