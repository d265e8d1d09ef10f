#!/bin/sh
# With PORTA_VULKAN_VALIDATION=1, a driver manifest the loader cannot load (a library for another
# architecture, here a file too short to be one) makes the loader report through the validation
# messenger; that notice is not a validation finding, so the Vulkan devices still open.
# usage: check_loader_notice.sh PORTA   (exit 77, skipped, where no Vulkan device opens without it)
porta=$1
plain=$(PORTA_VULKAN_VALIDATION=1 "$porta" devices 2>&1)
case "$plain" in
*"vulkan:0"*) ;;
*) echo "no Vulkan device with validation here; skipped"; exit 77 ;;
esac
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT
printf 'short\n' > "$dir/libnot_a_driver.so"
cat > "$dir/not_a_driver.json" <<JSON
{"file_format_version": "1.0.0",
 "ICD": {"library_path": "$dir/libnot_a_driver.so", "api_version": "1.3.0"}}
JSON
out=$(VK_ADD_DRIVER_FILES="$dir/not_a_driver.json" PORTA_VULKAN_VALIDATION=1 "$porta" devices 2>&1)
case "$out" in
*"vulkan:0"*) ;;
*) echo "a driver file the loader cannot load hid the Vulkan devices:"; echo "$out"; exit 1 ;;
esac
