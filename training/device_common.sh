# Sourced first by every device_*.sh call, from the repository root: pipes fail as a whole, Python
# prints at once (the device tool shows only what reached the log), START is the call's start, $W
# the work folder left on a warm machine (/tmp/mc unless set), and log() appends to $OUT/log.txt,
# which comes back with the call.
set -o pipefail
export PYTHONUNBUFFERED=1
START=$(date +%s)
W=${W:-/tmp/mc}
mkdir -p $W
log() { tee -a $OUT/log.txt; }
