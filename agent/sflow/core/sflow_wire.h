/* sFlow v5's wire numbers (sflow.org/sflow_version_5.txt) and the sizes of
 * the structures hostflowd encodes: shared by the encoder and the test
 * tree's strict decoder (test/common/sflow_validate.c). */
#ifndef HF_SFLOW_WIRE_H
#define HF_SFLOW_WIRE_H

#define SFLOW_VERSION          5
#define SFLOW_ADDR_IP_V4             1
#define SFLOW_ADDR_IP_V6             2
#define SFLOW_FMT_FLOW               1   /* enterprise 0 */
#define SFLOW_FMT_COUNTERS           2
#define SFLOW_FMT_FLOW_EXPANDED      3
#define SFLOW_FMT_COUNTERS_EXPANDED  4
#define SFLOW_REC_RAW_HEADER         1   /* flow record, enterprise 0 */
#define SFLOW_REC_ROUTER             1002 /* extended_router, flow record, enterprise 0 */
#define SFLOW_REC_GENERIC_IF         1   /* counter record, enterprise 0 */
#define SFLOW_GENERIC_IF_LEN         88
#define SFLOW_COMPACT_SOURCE_LIMIT   (1u << 24)
#define SFLOW_COMPACT_IF_LIMIT       (1u << 30)
#define SFLOW_HDR_V4_LEN             28
#define SFLOW_HDR_V6_LEN             40
#define SFLOW_FLOW_BODY_LEN          32  /* compact, up to and including the record count */
#define SFLOW_FLOW_X_BODY_LEN        44
#define SFLOW_CTR_BODY_LEN           12
#define SFLOW_CTR_X_BODY_LEN         16
#define SFLOW_RAW_HDR_FIXED          16  /* protocol, frame length, stripped, header length */
#define SFLOW_ROUTER_V4_LEN          16  /* address type, 4 bytes, two mask lengths */
#define SFLOW_ROUTER_V6_LEN          28

#endif
