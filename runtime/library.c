#include "runtime/library.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where each platform keeps the libraries. A bare name goes through the dynamic loader's own
 * search (LD_LIBRARY_PATH, the system folders); a path is opened as it is. docs/runtime.md lists
 * these too. */
#if defined(__ANDROID__)
#if defined(__LP64__)
#define ANDROID_LIB "lib64"
#else
#define ANDROID_LIB "lib"
#endif
/* Android has no ICD loader: a vendor's OpenCL library sits in the vendor partition (Adreno,
 * PowerVR), or Mali's GLES driver carries the OpenCL entry points itself. An app may open it only
 * where the vendor lists it in public.libraries.txt. */
const char *const porta_opencl_library_names[] = {
    "libOpenCL.so",
    "/vendor/" ANDROID_LIB "/libOpenCL.so",
    "/system/vendor/" ANDROID_LIB "/libOpenCL.so",
    "/system/" ANDROID_LIB "/libOpenCL.so",
    "/vendor/" ANDROID_LIB "/egl/libGLES_mali.so",
    "/system/vendor/" ANDROID_LIB "/egl/libGLES_mali.so",
    "/vendor/" ANDROID_LIB "/libPVROCL.so",
    NULL,
};
const char *const porta_vulkan_library_names[] = {"libvulkan.so", NULL};
#elif defined(__APPLE__)
const char *const porta_opencl_library_names[] = {
    "/System/Library/Frameworks/OpenCL.framework/OpenCL", NULL};
/* The Vulkan loader from the SDK, else MoltenVK on its own. */
const char *const porta_vulkan_library_names[] = {"libvulkan.1.dylib", "libvulkan.dylib",
                                                  "libMoltenVK.dylib", NULL};
#elif defined(_WIN32)
const char *const porta_opencl_library_names[] = {"OpenCL.dll", NULL};
const char *const porta_vulkan_library_names[] = {"vulkan-1.dll", NULL};
#else
/* Linux and the BSDs: the ICD loaders' sonames, then the development links. */
const char *const porta_opencl_library_names[] = {"libOpenCL.so.1", "libOpenCL.so", NULL};
const char *const porta_vulkan_library_names[] = {"libvulkan.so.1", "libvulkan.so", NULL};
#endif

/* dlopen's message for a file that is not there begins with the name asked for; a library that
 * is there but needs a missing one names that other library instead, and is "failed to load". */
static bool is_not_found(const char *name, const char *why)
{
    if (strchr(name, '/')) return access(name, F_OK) != 0 && errno == ENOENT;
    size_t n = strlen(name);
    return why && !strncmp(why, name, n) && strstr(why + n, "No such file");
}

static void append(porta_strbuf *tried, const char *name, const char *format, const char *detail)
{
    porta_strbuf_append(tried, "%s%s (", tried->length ? ", " : "", name);
    porta_strbuf_append(tried, format, detail);
    porta_strbuf_append(tried, ")");
}

/* Tries one name; the handle, or NULL with the reason appended to `tried`. */
static void *try_one(const porta_library_search *search, const char *name, porta_strbuf *tried)
{
    dlerror();
    void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        if (is_not_found(name, why))
            append(tried, name, "%s", "not found");
        else
            append(tried, name, "failed to load: %s", why ? why : "no reason given");
        return NULL;
    }
    const char *missing = search->check ? search->check(handle, search->user) : NULL;
    if (missing) {
        append(tried, name, "loaded, but lacks %s", missing);
        dlclose(handle);
        return NULL;
    }
    return handle;
}

void *porta_library_open(porta_context *context, const porta_library_search *search, char *path,
                         size_t path_size)
{
    porta_strbuf tried = {0};
    const char *list = search->env ? getenv(search->env) : NULL;
    void *handle = NULL;
    if (list && *list) {
        /* The caller's own list, ':'-separated, replaces the platform's. */
        for (const char *start = list; !handle && *start;) {
            size_t n = strcspn(start, ":");
            char name[1024];
            if (n > 0 && n < sizeof name) {
                memcpy(name, start, n);
                name[n] = '\0';
                handle = try_one(search, name, &tried);
                if (handle) snprintf(path, path_size, "%s", name);
            }
            start += n + (start[n] == ':');
        }
    } else {
        for (const char *const *name = search->candidates; !handle && *name; name++) {
            handle = try_one(search, *name, &tried);
            if (handle) snprintf(path, path_size, "%s", *name);
        }
    }
    if (!handle) {
        if (tried.failed)
            porta_error(context, PORTA_ERROR_UNSUPPORTED, "%s: no library could be opened",
                        search->api);
        else if (list && *list)
            porta_error(context, PORTA_ERROR_UNSUPPORTED, "%s: %s: tried %s", search->api,
                        search->env, tried.length ? tried.data : "nothing");
        else
            porta_error(context, PORTA_ERROR_UNSUPPORTED, "%s: tried %s", search->api,
                        tried.length ? tried.data : "nothing");
    }
    porta_strbuf_free(&tried);
    return handle;
}
