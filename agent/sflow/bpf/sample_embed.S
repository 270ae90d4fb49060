/* The tc programs' object (sample.bpf.c, built by clang -target bpf) inside
 * hostflowd, so the daemon is one file: capture_ebpf.c hands these bytes to
 * libbpf. HF_BPF_OBJECT is the object's path, given by the Makefile. */
	.section .rodata
	.balign 8
	.globl hf_sample_bpf_obj
	.type hf_sample_bpf_obj, @object
hf_sample_bpf_obj:
	.incbin HF_BPF_OBJECT
	.globl hf_sample_bpf_obj_end
hf_sample_bpf_obj_end:
	.size hf_sample_bpf_obj, hf_sample_bpf_obj_end - hf_sample_bpf_obj
	.section .note.GNU-stack,"",@progbits
